"""Request id, timing, the access line, and the last-resort 500."""

from __future__ import annotations

import os
import re
import time
from typing import Any
from weakref import WeakKeyDictionary

import structlog
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderly.core.context import request_id_var
from orderly.core.problems import internal_error_response
from orderly.core.ratelimit.headers import HEADERS_SCOPE_KEY

_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
# Per app: declared route -> full path template (built on the first request).
_TEMPLATES: WeakKeyDictionary[Any, dict[int, str]] = WeakKeyDictionary()

access_logger = structlog.get_logger("orderly.access")
error_logger = structlog.get_logger("orderly.errors")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("ascii") if _VALID_REQUEST_ID.fullmatch(value) else None
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's full path template (``/api/v1/items/{item_id}``).

    FastAPI 0.16x includes routers lazily: ``scope["route"]`` is the route as declared,
    whose path lacks the prefixes it was included under. The full paths are read once
    from the app's effective routes.
    """
    route = scope.get("route")
    if route is None:
        return "<unmatched>"
    app = scope.get("app")
    templates = _TEMPLATES.get(app) if app is not None else None
    if templates is None and app is not None:
        templates = _TEMPLATES[app] = {
            id(context.original_route): context.path
            for context in iter_route_contexts(app.routes)
            if context.path is not None
        }
    path = (templates or {}).get(id(route), getattr(route, "path", None))
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """Gives every request an id (echoed when well-formed), binds it to the log
    context, stamps ``X-Request-ID`` and ``X-Process-Time``, writes one access line,
    and turns an unhandled exception into a generic problem+json 500 (traceback to
    the log only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or os.urandom(16).hex()
        token = request_id_var.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        id_header = request_id.encode("ascii")

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                elapsed = f"{time.perf_counter() - started:.6f}".encode("ascii")
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", id_header))
                headers.append((b"x-process-time", elapsed))
                # Headers the handling of the request left for its response (the
                # RateLimit fields of an admitted request, core.ratelimit.headers).
                extra = scope.get(HEADERS_SCOPE_KEY)
                if extra is not None and message["status"] != 429:
                    headers.extend(extra)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_logger.exception("unhandled_exception", path=scope["path"])
            if not response_started:
                await internal_error_response(scope["path"])(scope, receive, send_wrapper)
        finally:
            access_logger.info(
                "request",
                method=scope["method"],
                route=_route_template(scope),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)

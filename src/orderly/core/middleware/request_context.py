"""Request id, timing, the access line, and the last-resort 500."""

from __future__ import annotations

import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderly.core.context import request_id_var
from orderly.core.problems import problem_response

_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")

access_logger = structlog.get_logger("orderly.access")
error_logger = structlog.get_logger("orderly.errors")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("ascii") if _VALID_REQUEST_ID.fullmatch(value) else None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
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
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_logger.exception("unhandled_exception", path=scope["path"])
            if not response_started:
                response = problem_response(
                    status=500,
                    code="INTERNAL_ERROR",
                    detail="An unexpected error occurred. Quote the request id when reporting it.",
                    instance=scope["path"],
                )
                await response(scope, receive, send_wrapper)
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

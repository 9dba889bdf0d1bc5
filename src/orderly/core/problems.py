"""RFC 9457 problem+json rendering and the exception handlers that use it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast

import redis.exceptions
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from orderly.core.context import request_id_var
from orderly.core.errors import AppError, FieldError
from orderly.core.ids import UNKNOWN_ID
from orderly.core.tracebacks import exception_message

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Bounds of what a problem carries (documented in the Problem schema): a detail may
# quote a client's input, and a request may fail validation in many places at once.
MAX_DETAIL = 2000
MAX_FIELD_ERRORS = 100
MAX_FIELD_TEXT = 500

logger = structlog.get_logger("orderly.errors")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_code_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "HTTP_ERROR"


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    errors: Sequence[FieldError] = (),
    extensions: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": status_title(status),
        "status": status,
        "detail": _bounded(detail, MAX_DETAIL),
        "code": code,
        "instance": instance,
        "request_id": request_id_var.get(),
    }
    if errors:
        body["errors"] = [
            {
                "field": _bounded(e.field, MAX_FIELD_TEXT),
                "message": _bounded(e.message, MAX_FIELD_TEXT),
                "code": e.code,
            }
            for e in errors[:MAX_FIELD_ERRORS]
        ]
    if extensions:
        # Extension members never replace a standard one.
        body.update((k, v) for k, v in extensions.items() if k not in body)
    return body


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    extensions: Mapping[str, object] | None = None,
) -> ProblemResponse:
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        errors=errors,
        extensions=extensions,
    )
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def internal_error_response(instance: str) -> ProblemResponse:
    """The generic 500: nothing about the cause (that goes to the log)."""
    return problem_response(
        status=500,
        code="INTERNAL_ERROR",
        detail="An unexpected error occurred. Quote the request id when reporting it.",
        instance=instance,
    )


def _field_errors(raw: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(str(part) for part in err.get("loc", ())),
            message=str(err.get("msg", "Invalid value")),
            code=str(err.get("type", "invalid")),
        )
        for err in raw
    ]


async def _app_error_handler(request: Request, exc: AppError) -> Response:
    if exc.status >= 500:
        logger.error("app_error", code=exc.code, detail=exc.detail)
    return problem_response(
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        errors=exc.errors,
        extensions=exc.extensions,
    )


async def _validation_handler(request: Request, exc: RequestValidationError) -> Response:
    raw = exc.errors()
    valid_ids = [err for err in raw if err.get("type") != UNKNOWN_ID]
    if not valid_ids:
        # Only path ids that cannot exist: the 404 an unknown id gets (core/ids.py).
        context = raw[0]["ctx"]
        return problem_response(
            status=404, code=context["code"], detail=context["detail"], instance=request.url.path
        )
    errors = _field_errors(valid_ids)
    noun = "field" if len(errors) == 1 else "fields"
    return problem_response(
        status=422,
        code="VALIDATION_ERROR",
        detail=f"The request has {len(errors)} invalid {noun}.",
        instance=request.url.path,
        errors=errors,
    )


_HTTP_DETAILS = {
    404: "No resource exists at this path.",
    405: "This method is not allowed on this resource.",
}


async def _http_exception_handler(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else status_title(exc.status_code)
    if detail == status_title(exc.status_code):
        detail = _HTTP_DETAILS.get(exc.status_code, detail)
    return problem_response(
        status=exc.status_code,
        code=status_code_name(exc.status_code),
        detail=detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _database_unavailable_handler(request: Request, exc: Exception) -> Response:
    # Pool exhausted (we wait APP_DB_POOL_TIMEOUT, then give up), database down, SQLite
    # write lock held past the busy timeout: all transient. Failing fast with 503 and
    # Retry-After beats holding the client until its own timeout; the driver text stays
    # in the log.
    logger.warning("database_unavailable", error=type(exc).__name__, detail=exception_message(exc))
    return problem_response(
        status=503,
        code="DATABASE_UNAVAILABLE",
        detail="The database is busy or unreachable; retry shortly.",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _dbapi_error_handler(request: Request, exc: Exception) -> Response:
    """A dropped connection (database restart, idle kill) is transient: 503. Any other
    driver error is a bug: the generic 500, the details to the log."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return await _database_unavailable_handler(request, exc)
    logger.error("database_error", exc_info=exc)
    return internal_error_response(request.url.path)


async def _redis_unavailable_handler(request: Request, exc: Exception) -> Response:
    logger.warning("redis_unavailable", error=type(exc).__name__)
    return problem_response(
        status=503,
        code="REDIS_UNAVAILABLE",
        detail="A shared store is unreachable; retry shortly.",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


def register_exception_handlers(app: FastAPI) -> None:
    """Every error a route can raise becomes problem+json.

    Unhandled exceptions are not handled here: Starlette routes them to its outermost
    ServerErrorMiddleware, outside our middleware, so the response would miss the
    request id and security headers. ``RequestContextMiddleware`` renders those instead.
    """
    # Starlette types handlers as taking any Exception; each of ours takes only the
    # class it is registered for, which is what Starlette passes.
    handlers: dict[type[Exception], object] = {
        AppError: _app_error_handler,
        RequestValidationError: _validation_handler,
        StarletteHTTPException: _http_exception_handler,
        sqlalchemy.exc.TimeoutError: _database_unavailable_handler,
        sqlalchemy.exc.OperationalError: _database_unavailable_handler,
        sqlalchemy.exc.InterfaceError: _database_unavailable_handler,
        sqlalchemy.exc.DBAPIError: _dbapi_error_handler,
        redis.exceptions.ConnectionError: _redis_unavailable_handler,
        redis.exceptions.TimeoutError: _redis_unavailable_handler,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, cast(ExceptionHandler, handler))

"""Sending a stored response again."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from orderly.idempotency.exceptions import IdempotentReplay
from orderly.idempotency.schemas import StoredResponse

REPLAYED_HEADER = (b"x-idempotent-replayed", b"true")


def replay_response(record: StoredResponse) -> Response:
    """The stored status and body bytes exactly, with the stored headers; Content-Length
    is computed again, and the middleware outside adds the per-request headers."""
    response = Response(content=record.body, status_code=record.status)
    response.raw_headers.extend(
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in record.headers
    )
    response.raw_headers.append(REPLAYED_HEADER)
    return response


async def _replay_handler(request: Request, exc: IdempotentReplay) -> Response:
    return replay_response(exc.record)


def register(app: FastAPI) -> None:
    # Starlette types handlers as taking any Exception; this one takes only the class
    # it is registered for, which is what Starlette passes.
    app.add_exception_handler(IdempotentReplay, cast(ExceptionHandler, _replay_handler))

"""Refuses JSON bodies nested deeper than ``MAX_JSON_DEPTH``, before anything parses them.

Here rather than in each consumer because two of them walk the same body: FastAPI
parses it for the endpoint, and the idempotency guard parses it again to fingerprint
it (also on routes that declare no body). One check at the edge covers both, and any
that come later. A JSON body is read whole (FastAPI reads it whole anyway), checked
once, and handed on as the one message it was received as, or the several.

The answer is 422 ``JSON_TOO_DEEP`` (the body is syntactically JSON, but not input we
take), with the one field error ``body``. Requests without a JSON body pass untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderly.core.errors import FieldError
from orderly.core.json_body import MAX_JSON_DEPTH, is_json_media_type, nests_deeper_than
from orderly.core.problems import problem_response

CODE = "JSON_TOO_DEEP"
ERROR = "json_too_deep"  # the field error's code
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _has_json_body(scope: Scope) -> bool:
    if scope["method"] in _BODILESS:
        return False
    # Any Content-Type header that says JSON: FastAPI reads the first, the guard too,
    # and checking more than they read is harmless. The exact common value first.
    for name, value in scope["headers"]:
        if name == b"content-type" and (
            value == b"application/json" or is_json_media_type(value.decode("latin-1"))
        ):
            return True
    return False


async def _read_all(receive: Receive) -> tuple[list[Message], bytes]:
    message = await receive()
    messages = [message]
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()
        messages.append(message)
    if len(messages) == 1:  # the usual small body: one message, nothing to join
        return messages, message.get("body", b"")
    return messages, b"".join(m.get("body", b"") for m in messages)


class JsonDepthMiddleware:
    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_json_body(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_all(receive)
        if nests_deeper_than(body, self.max_depth):
            response = problem_response(
                status=422,
                code=CODE,
                detail=f"The JSON body nests deeper than {self.max_depth} levels.",
                instance=scope["path"],
                errors=[FieldError("body", f"At most {self.max_depth} levels of nesting", ERROR)],
            )
            await response(scope, receive, send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            # The messages already read, then the real receive (a disconnect, later).
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

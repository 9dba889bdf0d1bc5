"""Refuses request bodies longer than ``max_body_bytes`` with 413 ``PAYLOAD_TOO_LARGE``,
counting while the body streams in, never reading it whole first.

- A ``Content-Length`` above the limit is refused before a byte of the body is read.
- A chunked body (or one that outgrows its ``Content-Length``) is counted message by
  message as the app pulls it; the message that passes the limit is the last one the
  app ever sees: ``receive`` raises from then on, and whatever the app answers to
  that broken read (FastAPI turns it into a 400) is dropped and replaced by the 413.
  So the app holds at most the limit plus one message of the body.

Outermost among the middleware that read bodies (JSON depth, idempotency), so none of
them buffers a body this one would refuse.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderly.core.errors import PayloadTooLargeError
from orderly.core.problems import problem_response


def _declared_length(scope: Scope) -> tuple[bool, int | None]:
    """Whether the request may carry a body, and its Content-Length if it sends one."""
    may_have_body = False
    length: int | None = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            may_have_body = True
            try:
                length = int(value)
            except ValueError:
                length = None  # the server refuses a malformed one itself
        elif name == b"transfer-encoding":
            may_have_body = True
    return may_have_body, length


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        may_have_body, length = _declared_length(scope)
        if not may_have_body:  # GETs and the like: nothing to count
            await self.app(scope, receive, send)
            return
        if length is not None and length > self.max_body_bytes:
            await self._refuse(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = _CountedBody(receive, send, self.max_body_bytes)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            if not body.too_large:
                raise
        if body.too_large and not body.response_started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            status=413,
            code=PayloadTooLargeError.code,
            detail=f"The request body is larger than {self.max_body_bytes} bytes.",
            instance=scope["path"],
            # The rest of the body is never read: the connection cannot be reused.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class _CountedBody:
    """The app's view of one request: ``receive`` counts, ``send`` goes quiet once the
    body has passed the limit (until then, or if the app had already answered, it
    passes everything on)."""

    __slots__ = ("_receive", "_send", "limit", "received", "response_started", "too_large")

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.too_large = False
        self.response_started = False

    async def receive(self) -> Message:
        if self.too_large:
            raise PayloadTooLargeError
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.too_large = True
                raise PayloadTooLargeError
        return message

    async def send(self, message: Message) -> None:
        if self.too_large and not self.response_started:
            return  # the app's answer to a body it could not read: replaced by the 413
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)

"""Records the response of a request that holds an idempotency key, then frees the key.

It sits inside GZip, so what it records is the body the app produced; a replay is
compressed again (or not) for the client asking. It reads body messages without
changing them: recording the body is the point.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderly.idempotency.schemas import StoredResponse
from orderly.idempotency.service import (
    HEADER,
    IDEMPOTENT_METHODS,
    KEPT_HEADERS,
    Claim,
    is_kept,
    settle,
)

SCOPE_KEY = "orderly.idempotency"
_HEADER = HEADER.lower().encode("latin-1")  # ASGI header names arrive lower-cased


@dataclass(slots=True)
class ClaimSlot:
    """Left in the scope by the middleware, filled by ``idempotency_guard``. An object
    rather than a scope entry of its own, so it survives a layer that copies the scope."""

    claim: Claim | None = None


def claim_slot(scope: Scope) -> ClaimSlot:
    slot = scope.get(SCOPE_KEY)
    if not isinstance(slot, ClaimSlot):
        # Without the middleware nothing would store the response or free the lock.
        raise RuntimeError("idempotency_guard needs IdempotencyMiddleware in the stack")
    return slot


class _Recorder:
    def __init__(self, slot: ClaimSlot, send: Send) -> None:
        self.slot = slot
        self.downstream = send
        self.keep = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if self.slot.claim is not None:
            await self._capture(message)
        await self.downstream(message)

    async def _capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.keep = is_kept(self.status)
            self.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
                if name.decode("latin-1").lower() in KEPT_HEADERS
            ]
        elif message["type"] == "http.response.body":
            if self.keep:
                self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                # Stored before the last chunk goes out: a client that has the whole
                # response and retries at once finds the record, not the lock.
                await self.finish(self._record())

    def _record(self) -> StoredResponse | None:
        claim = self.slot.claim
        if claim is None or not self.keep:
            return None
        body = b"".join(self.chunks)
        return StoredResponse(
            fingerprint=claim.fingerprint, status=self.status, headers=self.headers, body=body
        )

    async def finish(self, record: StoredResponse | None) -> None:
        claim, self.slot.claim = self.slot.claim, None
        if claim is not None:
            # Shielded: a cancelled request must still free its key, or retries would
            # get 409 until the lock expires.
            with anyio.CancelScope(shield=True):
                await settle(claim, record)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in IDEMPOTENT_METHODS
            or not any(name == _HEADER for name, _ in scope["headers"])
        ):
            # Nothing to record: no key, or a method that never takes one.
            await self.app(scope, receive, send)
            return
        slot = ClaimSlot()
        scope[SCOPE_KEY] = slot
        recorder = _Recorder(slot, send)
        try:
            await self.app(scope, receive, recorder.send)
        finally:
            # An exception, or a response that never completed: keep nothing (the
            # client may retry) but free the key. A no-op when already settled.
            await recorder.finish(None)

"""``GET /api/v1/ws``: the live events over a WebSocket.

Authenticated **before** the handshake is accepted (``Authorization`` / ``X-API-Key``
headers, or a single-use ``?ticket=``); a refusal closes with 1008 before accept, which
the server answers as HTTP 403: a bad credential never gets an open socket.

Client messages: ``{"type": "subscribe", "types": ["order.*"], "after": 1234}`` (a new
subscribe replaces the previous one) and ``{"type": "ping"}`` (answered ``{"type":
"pong"}``). Server messages: each event object, and ``{"type": "error", "code",
"detail"}``. Closed with 1013 when more than ``max_pending_events`` events wait for a
client that does not read, and with 4001 when the credential it connected with
expires or (an API key) is revoked (``credentials.KeyWatch``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import structlog
from fastapi import WebSocket
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from orderly.core.access import API_KEYS, BEARER_TOKENS, authenticate
from orderly.core.container import Container, container_of
from orderly.core.errors import AppError
from orderly.core.identity import Principal
from orderly.live.credentials import KEY_WATCH
from orderly.live.exceptions import InvalidTypeFilterError
from orderly.live.filters import MAX_PATTERNS, TypePatterns
from orderly.live.service import StreamService
from orderly.live.stream import ClientTooSlowError, LiveFeed
from orderly.live.tickets import WS_TICKETS, Redeemed

logger = structlog.get_logger("orderly.live")

POLICY_VIOLATION = 1008  # refused before accept (HTTP 403)
TRY_AGAIN_LATER = 1013  # too slow: more than max_pending_events unsent
INTERNAL_ERROR = 1011
TOKEN_EXPIRED = 4001
MAX_MESSAGE_CHARS = 4096
CLOSE_TIMEOUT_SECONDS = 5.0


async def credential_expiry(conn: HTTPConnection, container: Container) -> float | None:
    """When the credential of ``conn`` expires (epoch seconds), read the way
    ``core.access.authenticate`` picks it: a bearer token, else an API key with an
    ``expires_at``; None when it does not expire."""
    scheme, _, token = (conn.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return await container[BEARER_TOKENS].expires_at(token.strip())
    api_key = conn.headers.get("x-api-key")
    if api_key:
        return await container[API_KEYS].expires_at(api_key)
    return None


async def _authenticate(websocket: WebSocket, container: Container) -> Redeemed | None:
    ticket = websocket.query_params.get("ticket")
    try:
        if ticket is not None:
            return await container[WS_TICKETS].redeem(ticket)
        principal = await authenticate(websocket)
    except AppError:
        return None
    return Redeemed(principal, await credential_expiry(websocket, container))


async def serve_socket(websocket: WebSocket) -> None:
    container = container_of(websocket)
    redeemed = await _authenticate(websocket, container)
    if redeemed is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    streams = StreamService(redeemed.principal, container)
    try:
        streams.feed(None)  # may this caller see any event at all?
    except AppError:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    await SocketSession(websocket, streams, redeemed.expires_at).run()


class _BadMessage(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _subscription_of(message: dict[str, Any]) -> tuple[TypePatterns | None, int | None]:
    types, after = message.get("types"), message.get("after")
    if types is not None and (
        not isinstance(types, list)
        or len(types) > MAX_PATTERNS
        or not all(isinstance(t, str) for t in types)
    ):
        raise _BadMessage("INVALID_MESSAGE", "`types` must be a list of event type patterns.")
    if after is not None and (type(after) is not int or not 0 <= after < 2**63):
        raise _BadMessage("INVALID_MESSAGE", "`after` must be a seq number (an integer >= 0).")
    try:
        patterns = TypePatterns.parse(types, field="types") if types else None
    except InvalidTypeFilterError as exc:
        raise _BadMessage(exc.code, exc.detail) from exc
    return patterns, after


class SocketSession:
    def __init__(self, websocket: WebSocket, streams: StreamService, expires_at: float | None):
        self.websocket = websocket
        self.streams = streams
        self.principal: Principal = streams.principal
        self.expires_at = expires_at
        self._send_lock = asyncio.Lock()
        # Set to end the session from the server's side, with the close code to send.
        self._ending = asyncio.Event()
        self._close_with = (TRY_AGAIN_LATER, "too many unsent events")
        self._pump: asyncio.Task[None] | None = None

    async def run(self) -> None:
        key_watch = self.streams.container[KEY_WATCH]
        with key_watch.watch(self.principal.api_key_id, self._revoked):
            await self._run()

    def _revoked(self) -> None:
        self._close_with = (TOKEN_EXPIRED, "credential revoked")
        self._ending.set()

    async def _run(self) -> None:
        receiver = asyncio.create_task(self._receive())
        ending = asyncio.create_task(self._ending.wait())
        timeout = None if self.expires_at is None else max(0.0, self.expires_at - time.time())
        try:
            done, _ = await asyncio.wait(
                {receiver, ending}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if receiver in done:
                return  # the client left
            await self._stop_pump()
            if ending in done:
                await self._close(*self._close_with)
            else:
                await self._close(TOKEN_EXPIRED, "credential expired")
        finally:
            for task in (receiver, ending):
                task.cancel()
            await self._stop_pump()
            for outcome in await asyncio.gather(receiver, ending, return_exceptions=True):
                if isinstance(outcome, Exception):
                    logger.warning("live_socket_receiver_failed", error=type(outcome).__name__)

    async def _close(self, code: int, reason: str) -> None:
        if self.websocket.application_state is WebSocketState.DISCONNECTED:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await self.websocket.close(code=code, reason=reason)
        except (TimeoutError, RuntimeError, OSError):
            pass  # the connection is gone or stuck; returning ends it

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def _receive(self) -> None:
        while True:
            try:
                text = await self.websocket.receive_text()
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return  # closed, or a binary frame (KeyError): end the session
            try:
                await self._handle(text)
            except _BadMessage as bad:
                error = {"type": "error", "code": bad.code, "detail": bad.detail}
                await self._send(json.dumps(error))

    async def _handle(self, text: str) -> None:
        if len(text) > MAX_MESSAGE_CHARS:
            raise _BadMessage("INVALID_MESSAGE", "Messages are at most 4096 characters.")
        try:
            message = json.loads(text)
        except ValueError:
            raise _BadMessage("INVALID_MESSAGE", "Messages are JSON objects.") from None
        if not isinstance(message, dict):
            raise _BadMessage("INVALID_MESSAGE", "Messages are JSON objects.")
        kind = message.get("type")
        if kind == "ping":
            await self._send('{"type":"pong"}')
        elif kind == "subscribe":
            patterns, after = _subscription_of(message)
            await self._stop_pump()
            feed = self.streams.feed(patterns, overflow_is_fatal=True)
            self._pump = asyncio.create_task(self._stream(feed, after))
        else:
            raise _BadMessage("INVALID_MESSAGE", "`type` must be 'subscribe' or 'ping'.")

    async def _stop_pump(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)

    async def _stream(self, feed: LiveFeed, after: int | None) -> None:
        try:
            start = await feed.start_after(after)
            with self.streams.subscribe(feed) as subscription:
                subscription.on_overflow = self._ending.set
                async for batch in feed.batches(subscription, start):
                    subscription.held = len(batch)
                    for event in batch:
                        await self._send(event.text)
                        subscription.held -= 1
        except asyncio.CancelledError:
            raise
        except ClientTooSlowError:
            self._ending.set()
        except Exception as exc:
            # The socket went away mid-send, or the database failed a replay: end the
            # session rather than leave a subscribed socket that receives nothing.
            logger.warning("live_socket_stream_failed", error=type(exc).__name__)
            self._close_with = (INTERNAL_ERROR, "the event stream failed; reconnect")
            self._ending.set()

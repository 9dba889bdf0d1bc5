"""Sending one delivery: signed per Standard Webhooks, over one shared client, to the
address the SSRF guard checked.

One ``httpx.AsyncClient`` for every delivery of the process (opened by ``provide``,
closed with the container), with explicit timeouts and connection limits, redirects
not followed, and at most ``MAX_RESPONSE_BYTES`` of a response read.

**Connecting to the checked address.** httpx resolves the URL's host itself when it
connects, and DNS may answer differently from the guard's look-up a moment before
(DNS rebinding). ``PinnedBackend`` is the connection pool's network backend: it
connects a new connection to the address the guard checked for that host in the
current task (``pinned``), and refuses to connect anywhere else. The URL, the Host
header, TLS SNI and certificate verification keep the hostname: httpcore passes the
origin's host to ``start_tls``. httpx has no public parameter for a network backend
(encode/httpx#1319: no custom resolution), so ``PinningTransport`` replaces the
pool that ``AsyncHTTPTransport`` builds with one using this backend.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

import certifi
import httpcore
import httpx
from standardwebhooks import Webhook

from orderly import __version__
from orderly.webhooks.addresses import Target

USER_AGENT = f"Orderly-Webhooks/{__version__}"
MAX_RESPONSE_BYTES = 4096
CONNECT_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 20

# host -> the address checked for it, for connections opened by the current task.
_PINS: ContextVar[Mapping[str, str] | None] = ContextVar("webhook_pins", default=None)


@contextmanager
def pinned(host: str, address: str) -> Iterator[None]:
    """Connections to ``host`` opened inside the block go to ``address``."""
    token = _PINS.set({host: address})
    try:
        yield
    finally:
        _PINS.reset(token)


class UnpinnedConnectError(httpcore.ConnectError):
    """A connection no check vouched for: refused, never opened."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = (_PINS.get() or {}).get(host)
        if address is None:
            raise UnpinnedConnectError(f"no checked address for {host}")
        return await self._backend.connect_tcp(
            address, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )  # fmt: skip

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnpinnedConnectError("webhooks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PinningTransport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )


def open_client(timeout_seconds: float) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
    )
    return httpx.AsyncClient(
        transport=PinningTransport(limits),
        timeout=httpx.Timeout(timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS),
        follow_redirects=False,
        trust_env=False,
    )


def signature(secrets: Iterable[str], msg_id: str, at: datetime, body: bytes) -> str:
    """``webhook-signature``: one ``v1,<base64>`` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


@dataclass(frozen=True, slots=True)
class SendResult:
    response_status: int | None
    duration_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, *, timeout_seconds: float) -> None:
        self.client = client
        self.timeout_seconds = timeout_seconds

    async def send(
        self, target: Target, *, msg_id: str, secrets: Iterable[str], body: bytes, at: datetime
    ) -> SendResult:
        """POST ``body`` to ``target``'s checked address; never raises for the
        receiver's failures (they are the result), and never runs past the timeout."""
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(secrets, msg_id, at, body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            # The total bound: httpx's timeouts are per operation (connect, each read).
            async with asyncio.timeout(self.timeout_seconds):
                status = await self._post(target, headers, body)
        except TimeoutError:
            error = f"timed out after {self.timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = round((time.perf_counter() - started) * 1000)
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        return SendResult(status, duration_ms, error)

    async def _post(self, target: Target, headers: dict[str, str], body: bytes) -> int:
        address = str(target.address)
        with pinned(target.host, address):
            request = self.client.build_request("POST", target.url, headers=headers, content=body)
            response = await self.client.send(request, stream=True)
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break  # the rest is not read: the connection is closed, not reused
            finally:
                await response.aclose()
            return response.status_code

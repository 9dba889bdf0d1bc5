"""A real webhook receiver: a small ASGI app served by uvicorn on 127.0.0.1, in a
thread of its own, that verifies every request with the ``standardwebhooks`` library.

A test tells it what to do next: answer with an error (``fail_next``), or take the
request and not answer until released (``hold``: the test sees it arrive, then lets it
go, or never does and the sender times out). It records every request it receives.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

Scope = dict[str, Any]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # by one of the secrets the receiver trusts

    def verifies_with(self, secret: str) -> bool:
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


class Receiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._secrets: list[str] = []
        self._failures: deque[int] = deque()
        self._holding = False
        self._release = threading.Event()
        self._stopping = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            ws="none",
            loop="asyncio",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def trust(self, *secrets: str) -> None:
        with self._lock:
            self._secrets = list(secrets)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def hold(self) -> None:
        """Requests from now on are recorded on arrival and answered only once released."""
        self._release.clear()
        self._holding = True

    def release(self) -> None:
        self._holding = False
        self._release.set()

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    async def wait_for(self, count: int, *, within_seconds: float = 15.0) -> list[Received]:
        """At least ``count`` requests (polled; fails after ``within_seconds``)."""
        deadline = time.monotonic() + within_seconds
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver got {len(self.received)} of {count} requests")
            await asyncio.sleep(0.02)
        return self.received

    async def app(self, scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            secrets = list(self._secrets)
        request = Received(scope["path"], headers, body, False)
        verified = any(request.verifies_with(secret) for secret in secrets)
        with self._lock:
            self._received.append(Received(scope["path"], headers, body, verified))
            status = self._failures.popleft() if self._failures else 200
        if self._holding:
            # The release comes from the test's thread: a threading.Event, polled.
            while not (self._release.is_set() or self._stopping.is_set()):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        if not verified:
            status = 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()

"""A real webhook receiver for tests: uvicorn on a loopback port, in a thread.

It verifies every delivery with the ``standardwebhooks`` library (the reference
implementation receivers use) against the endpoint's secret, records each arrival, and
can hold the next delivery unanswered (a receiver that is slow, or a worker killed
while it waits for the answer).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from standardwebhooks import Webhook

from tests.support.server import free_port

Message = MutableMapping[str, Any]


@dataclass(frozen=True)
class Arrival:
    webhook_id: str
    event: dict[str, Any]
    verified: bool


class Receiver:
    def __init__(self) -> None:
        self.url = ""
        self.secret: str | None = None
        self.arrivals: list[Arrival] = []
        self.held: Arrival | None = None
        self._hold_next = False
        # Set in the receiver's own event loop (the test releases from its thread).
        self._released: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def hold_next(self) -> None:
        """Leave the next delivery unanswered until ``release()``."""
        self._hold_next = True

    def release(self) -> None:
        if self._released is not None:
            loop, released = self._released
            loop.call_soon_threadsafe(released.set)

    def count(self, webhook_id: str) -> int:
        return sum(1 for a in self.arrivals if a.webhook_id == webhook_id)

    def order_ids(self) -> set[str]:
        return {str(a.event["data"]["id"]) for a in self.arrivals}

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except Exception:  # the library raises its own WebhookVerificationError
            return False
        return True

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        arrival = Arrival(
            headers.get("webhook-id", ""), json.loads(body), self._verify(body, headers)
        )
        self.arrivals.append(arrival)
        if self._hold_next:
            released = asyncio.Event()
            self._hold_next, self.held = False, arrival
            self._released = (asyncio.get_running_loop(), released)
            await released.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    port = free_port()
    config = uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the webhook receiver did not start")
        threading.Event().wait(0.02)
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        receiver.release()
        server.should_exit = True
        thread.join(timeout=10)

"""The far end of the events bench's webhooks: a receiver (the SSE clients are
``bench.sse_crowd``).

It measures the lag as arrival time minus the event's ``created_at`` (written in the
transaction of the change, a few milliseconds before its commit, so the lag measured
is an upper bound of commit → arrival). Same machine, same clock.

``python -m bench.listeners receiver --port P``
    A raw ASGI app (under uvicorn): ``POST /hook`` records the lag of each delivery and
    answers 204; ``GET /stats`` → ``{"count", "lags_ms"}``; ``POST /reset`` forgets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def lag_ms(event: dict[str, Any]) -> float:
    created = datetime.fromisoformat(str(event["created_at"]))
    return (time.time() - created.timestamp()) * 1000


class Receiver:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.ids: set[str] = set()
        self.since = 0.0  # events created before the last reset are late arrivals: ignored

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/hook":
            event = json.loads(body)
            created = datetime.fromisoformat(str(event["created_at"])).timestamp()
            if created >= self.since and event["id"] not in self.ids:  # a retry is not new
                self.ids.add(event["id"])
                self.lags.append(lag_ms(event))
            await _answer(send, 204, b"")
        elif method == "GET" and path == "/stats":
            stats = {"count": len(self.lags), "lags_ms": self.lags}
            await _answer(send, 200, json.dumps(stats).encode())
        elif method == "POST" and path == "/reset":
            self.lags, self.ids, self.since = [], set(), time.time()
            await _answer(send, 204, b"")
        elif path == "/health/live":
            await _answer(send, 200, b'{"status":"alive"}')
        else:
            await _answer(send, 404, b"")


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = Receiver()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listeners")
    modes = parser.add_subparsers(dest="mode", required=True)
    receiver = modes.add_parser("receiver")
    receiver.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    uvicorn.run(
        "bench.listeners:app",
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The far ends of the events bench: a webhook receiver and a crowd of SSE clients.

Both measure the same lag: arrival time minus the event's ``created_at`` (written in
the transaction of the change, a few milliseconds before its commit, so the lag
measured is an upper bound of commit → arrival). Same machine, same clock.

``python -m bench.listeners receiver --port P``
    A raw ASGI app (under uvicorn): ``POST /hook`` records the lag of each delivery and
    answers 204; ``GET /stats`` → ``{"count", "lags_ms"}``; ``POST /reset`` forgets.
``python -m bench.listeners sse --base-url U --api-key K --clients N --seconds S --out F``
    Opens N SSE streams, writes ``READY`` to ``F.ready`` once every stream answered,
    listens S seconds, then writes ``{"clients", "connected", "events", "lags_ms"}`` to F.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from pathlib import Path
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


async def _one_client(
    base_url: str, api_key: str, lags: list[float], connected: list[int], ready: asyncio.Event
) -> None:
    import httpx  # only the sse mode needs it

    headers = {"X-API-Key": api_key, "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, read=None)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", "/api/v1/events/stream", headers=headers) as resp,
    ):
        if resp.status_code != 200:
            raise RuntimeError(f"SSE stream answered {resp.status_code}")
        connected[0] += 1
        if connected[0] == connected[1]:
            ready.set()
        async for line in resp.aiter_lines():
            if line.startswith("data:"):
                lags.append(lag_ms(json.loads(line[5:].strip())))


async def _crowd(args: argparse.Namespace) -> None:
    lags: list[float] = []
    connected = [0, args.clients]
    ready = asyncio.Event()
    tasks = [
        asyncio.create_task(_one_client(args.base_url, args.api_key, lags, connected, ready))
        for _ in range(args.clients)
    ]
    try:
        await asyncio.wait_for(ready.wait(), timeout=60)
        await asyncio.to_thread(Path(f"{args.out}.ready").write_text, "READY\n")
        before = len(lags)
        await asyncio.sleep(args.seconds)
        measured = lags[before:]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    result = {
        "clients": args.clients,
        "connected": connected[0],
        "events": len(measured),
        "lags_ms": measured,
    }
    await asyncio.to_thread(Path(args.out).write_text, json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listeners")
    modes = parser.add_subparsers(dest="mode", required=True)
    receiver = modes.add_parser("receiver")
    receiver.add_argument("--port", type=int, required=True)
    sse = modes.add_parser("sse")
    sse.add_argument("--base-url", required=True)
    sse.add_argument("--api-key", required=True)
    sse.add_argument("--clients", type=int, default=200)
    sse.add_argument("--seconds", type=float, default=10.0)
    sse.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.mode == "receiver":
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
    asyncio.run(_crowd(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

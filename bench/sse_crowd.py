"""``python -m bench.sse_crowd``: one process of the SSE crowd of ``bench.events``.

The events bench spreads its SSE clients over several of these processes (pinned to
the load core, like wrk): 200 clients parsed by httpx in one Python process were the
bottleneck of the first measurement (the clients fell behind, not the server).

Each client is a raw ``asyncio.Protocol`` on a plain socket (uvloop): it sends one
``GET /api/v1/events/stream`` and reads the chunked body without decoding it. SSE
frames end with a blank line and the server sends whole frames per chunk, so a client
only looks for ``id: <seq>`` in each frame; the event's JSON (``data:``) is parsed
once per process, the first time a seq arrives, not once per client.

Clocks: every time is ``time.time()`` (CLOCK_REALTIME) on this machine, read once per
socket read. ``created_at`` is written by the server in the order's transaction, a few
milliseconds before its commit; the order creator of ``bench.events`` records when it
read each 201 (after the commit). So ``arrival - created_at`` is an upper bound of
commit -> client, and ``arrival - 201 read`` a lower bound (it can be negative: the
relay may publish before the creator reads its 201).

Writes ``READY`` to ``OUT.ready`` once every client has its 200, listens until
SIGTERM (at most ``--seconds``) and writes ``{"clients", "connected", "frames",
"seconds", "cpu_s", "events"}`` to OUT, with ``events`` = ``{seq: [created_at,
order id, [arrival, ...]]}`` when ``--record`` is given (the lag phase), else ``{}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

STREAM_PATH = "/api/v1/events/stream"


class Crowd:
    def __init__(self, clients: int, record: bool) -> None:
        self.clients = clients
        self.record = record
        self.connected = 0
        self.failed: list[str] = []
        self.frames = 0  # events received, all clients together
        self.events: dict[int, list[Any]] = {}  # seq -> [created_at, order id, arrivals]
        self.ready = asyncio.Event()
        self.done = asyncio.Event()

    def arrived(self, seq: int, frame: bytes, start: int, now: float) -> None:
        self.frames += 1
        if not self.record:
            return
        known = self.events.get(seq)
        if known is None:
            data = frame.find(b"data: ", start)
            body = json.loads(frame[data + 6 :])
            created = datetime.fromisoformat(str(body["created_at"])).timestamp()
            known = self.events[seq] = [created, str(body["data"].get("id")), []]
        known[2].append(now)


class SseClient(asyncio.Protocol):
    def __init__(self, crowd: Crowd, request: bytes) -> None:
        self.crowd = crowd
        self.request = request
        self.head: bytes | None = b""  # None once the response head is read
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as asyncio.Transport subclasses.
        cast("asyncio.Transport", transport).write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.head.split(b" ", 2)[1]
            data, self.head = self.head[end + 4 :], None
            if status != b"200":
                self.crowd.failed.append(status.decode())
                self.crowd.done.set()
                return
            self.crowd.connected += 1
            if self.crowd.connected == self.crowd.clients:
                self.crowd.ready.set()
        buffer = self.buffer + data
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self.buffer = buffer
            return
        self.buffer = buffer[end + 2 :]
        # Chunk-size lines ("\r\n1a3\r\n") land at the start of a frame: harmless here.
        for frame in buffer[:end].split(b"\n\n"):
            at = frame.find(b"id: ")
            if at >= 0:  # else a heartbeat comment
                line_end = frame.find(b"\n", at)
                self.crowd.arrived(int(frame[at + 4 : line_end]), frame, line_end, now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.crowd.done.is_set():
            self.crowd.failed.append(f"connection lost ({exc!r})")


def _request(base_url: str, api_key: str) -> bytes:
    host = urlsplit(base_url).netloc
    return (
        f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {api_key}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    crowd = Crowd(args.clients, args.record)
    parts = urlsplit(args.base_url)
    request = _request(args.base_url, args.api_key)
    loop = asyncio.get_running_loop()
    transports = []
    for _ in range(args.clients):
        transport, _ = await loop.create_connection(
            lambda: SseClient(crowd, request), parts.hostname, parts.port
        )
        transports.append(transport)
    try:
        await asyncio.wait_for(crowd.ready.wait(), timeout=60)
    except TimeoutError:
        raise SystemExit(
            f"{crowd.connected}/{args.clients} connected; {crowd.failed[:3]}"
        ) from None
    await asyncio.to_thread(Path(f"{args.out}.ready").write_text, "READY\n")
    crowd.frames, crowd.events = 0, {}  # count from READY on
    before, started = os.times(), time.monotonic()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=args.seconds)
    after, seconds = os.times(), time.monotonic() - started
    crowd.done.set()
    for transport in transports:
        transport.close()
    return {
        "clients": args.clients,
        "connected": crowd.connected,
        "failed": crowd.failed[:10],
        "frames": crowd.frames,
        "seconds": seconds,
        "cpu_s": (after.user + after.system) - (before.user + before.system),
        "events": crowd.events,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sse_crowd")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--record", action="store_true", help="keep arrival times (lags)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(_run(args))
    else:
        result = uvloop.run(_run(args))
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``orderly events tail``: a terminal client of ``GET /api/v1/events/stream``.

Prints each event as it arrives (rich), and on a dropped connection reconnects with
``Last-Event-ID``, so a restart of the server or a network blip costs no event: the
server replays what was missed from the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

RECONNECT_SECONDS = 1.0
STREAM_PATH = "/api/v1/events/stream"
_COLOURS = {"order": "cyan", "item": "green", "tenant": "magenta", "webhook": "yellow"}


class TailRefusedError(Exception):
    """The server refused the stream (bad key, no visible event type): not retried."""


@dataclass(frozen=True, slots=True)
class Frame:
    id: str | None
    event: str | None
    data: str


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    """SSE lines to frames; comments (heartbeats) are skipped."""
    fields: dict[str, str] = {}
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield Frame(fields.get("id"), fields.get("event"), "\n".join(data))
            fields, data = {}, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value


def render(event: dict[str, Any]) -> Text:
    """``#seq  time  type  id  status total`` on one line."""
    event_type = str(event.get("type", "?"))
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    line = Text()
    line.append(f"#{event.get('seq', '?'):<6} ", style="bold")
    line.append(f"{str(event.get('created_at', ''))[:19]}  ", style="dim")
    line.append(f"{event_type:<22}", style=_COLOURS.get(event_type.partition(".")[0], "white"))
    line.append(f" {data.get('id', '')}")
    details = [
        f"{key}={data[key]}" for key in ("status", "total", "currency", "stock") if key in data
    ]
    if details:
        line.append("  " + " ".join(details), style="dim")
    return line


@dataclass
class Tail:
    url: str
    headers: dict[str, str]
    types: str | None = None
    after: int | None = None
    count: int | None = None  # stop after this many events (scripts, tests)
    as_json: bool = False
    shown: int = 0

    async def run(self, console: Console) -> None:
        last = str(self.after) if self.after is not None else None
        timeout = httpx.Timeout(10.0, read=None)
        async with httpx.AsyncClient(base_url=self.url, timeout=timeout) as client:
            while self.count is None or self.shown < self.count:
                try:
                    last = await self._stream(client, console, last)
                except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
                    console.print(f"[dim]disconnected ({type(exc).__name__}); resuming[/dim]")
                await asyncio.sleep(0 if self._done() else RECONNECT_SECONDS)

    def _done(self) -> bool:
        return self.count is not None and self.shown >= self.count

    async def _stream(
        self, client: httpx.AsyncClient, console: Console, last: str | None
    ) -> str | None:
        headers = dict(self.headers)
        if last is not None:
            headers["Last-Event-ID"] = last
        params = {"type": self.types} if self.types else {}
        async with client.stream("GET", STREAM_PATH, headers=headers, params=params) as response:
            if response.status_code != 200:
                body = json.loads(await response.aread() or b"{}")
                raise TailRefusedError(
                    f"{response.status_code} {body.get('code', '')}: {body.get('detail', '')}"
                )
            async for frame in frames(response.aiter_lines()):
                last = frame.id or last
                event = json.loads(frame.data)
                if self.as_json:
                    console.out(json.dumps(event), highlight=False)
                else:
                    console.print(render(event), soft_wrap=True)
                self.shown += 1
                if self._done():
                    break
        return last

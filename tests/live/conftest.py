"""Live-events fixtures: the test app served by a real uvicorn on a loopback port, in
the test's own event loop (its hub and database stay inspectable), and clients that
read SSE and WebSocket as browsers and services do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from orderly.core.container import Container
from orderly.live.hub import LIVE_HUB, LiveHub
from tests.support.api import Account, add_item, place_order, register
from tests.support.publisher import publish_pending
from tests.support.server import free_port

WAIT_SECONDS = 15.0  # generous: "does not hang", never a timing assertion


@pytest.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (already started by its fixture) behind a real HTTP/WebSocket server."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT_SECONDS):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_SECONDS)


def container_of_app(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


def hub_of(app: FastAPI) -> LiveHub:
    return container_of_app(app)[LIVE_HUB]


async def publish(app: FastAPI) -> None:
    """Publish what has committed, now (the app's relay would, within moments)."""
    await publish_pending(container_of_app(app))


async def wait_for(condition: Any, what: str) -> None:
    """Poll ``condition()`` until true (bounded: a hang fails, timing does not)."""
    for _ in range(int(WAIT_SECONDS / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


@dataclass
class Shop:
    owner: Account
    item_id: str

    async def order(self, client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> str:
        response = await place_order(client, headers or self.owner.headers, [(self.item_id, 1)])
        assert response.status_code == 201, response.text
        order_id: str = response.json()["id"]
        return order_id


async def open_shop(client: httpx.AsyncClient, name: str = "Live") -> Shop:
    owner = await register(client, name)
    item = await add_item(client, owner.headers, stock=10_000)
    return Shop(owner, item["id"])


@dataclass
class SseEvent:
    id: str | None
    event: str | None
    data: str

    @property
    def body(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value


@dataclass
class SseReader:
    """Parses ``text/event-stream`` lines into events; comments are counted."""

    lines: AsyncIterator[str]
    comments: list[str] = field(default_factory=list)

    async def next(self) -> SseEvent:
        async with asyncio.timeout(WAIT_SECONDS):
            fields: dict[str, str] = {}
            data: list[str] = []
            async for line in self.lines:
                if not line:
                    if data:
                        return SseEvent(fields.get("id"), fields.get("event"), "\n".join(data))
                    continue
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
        raise AssertionError("the stream ended")

    async def next_comment(self) -> str:
        """The next comment line (a heartbeat); fails on an event in between."""
        async with asyncio.timeout(WAIT_SECONDS):
            async for line in self.lines:
                if line.startswith(":"):
                    self.comments.append(line)
                    return line
                assert not line, f"an event arrived instead of a heartbeat: {line}"
        raise AssertionError("the stream ended")

    async def take(self, count: int) -> list[SseEvent]:
        return [await self.next() for _ in range(count)]


@asynccontextmanager
async def sse(
    base_url: str, headers: dict[str, str], **params: str | int
) -> AsyncIterator[SseReader]:
    """An open SSE stream; its response status is checked (200, event-stream)."""
    timeout = httpx.Timeout(WAIT_SECONDS, read=None)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        client.stream(
            "GET",
            "/api/v1/events/stream",
            headers=headers,
            params={k: str(v) for k, v in params.items()},
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response.aiter_lines())

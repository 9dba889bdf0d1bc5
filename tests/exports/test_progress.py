"""``GET /api/v1/exports/{id}/progress``: Server-Sent Events until the export ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orderly.core.database import DATABASE
from orderly.core.pagination import Position
from orderly.exports import flows
from orderly.orders.schemas import OrderRead
from orderly.orders.service import OrderWindow, TenantOrders
from tests.exports.support import EXPORTS, insert_orders, open_shop, start_export
from tests.live.conftest import SseEvent, SseReader
from tests.support.parts import part

WAIT_SECONDS = 60.0


class SlowOrders(TenantOrders):
    """A database that takes its time per page, so the stream sees the steps."""

    async def page(
        self, window: OrderWindow, after: Position | None, rows: int
    ) -> Sequence[OrderRead]:
        await asyncio.sleep(0.3)
        return await super().page(window, after, rows)


async def follow(base_url: str, headers: dict[str, str], export_id: str) -> list[SseEvent]:
    """Every event of the stream, which must end by itself."""
    events: list[SseEvent] = []
    timeout = httpx.Timeout(WAIT_SECONDS, read=WAIT_SECONDS)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", f"{EXPORTS}/{export_id}/progress", headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = SseReader(response.aiter_lines())
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                try:
                    events.append(await reader.next())
                except AssertionError:  # "the stream ended"
                    return events


def data(event: SseEvent) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event.data)
    return body


async def test_progress_rises_step_by_step_then_a_final_event_ends_the_stream(
    client: httpx.AsyncClient,
    app: FastAPI,
    live_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flows, "PAGE_ORDERS", 10)
    monkeypatch.setattr(flows, "TenantOrders", SlowOrders)
    shop = await open_shop(client)
    await insert_orders(part(app, DATABASE).engine, shop, 50)
    export = await start_export(client, shop.owner.headers)

    events = await follow(live_server, shop.owner.headers, export["id"])

    *steps, last = events
    assert {e.event for e in steps} == {"progress"}
    progress = [data(e)["progress"] for e in steps]
    assert progress == sorted(progress)
    assert len(set(progress)) >= 3, progress
    assert data(steps[-1]) == {"status": "succeeded", "progress": 100, "rows": 50}
    assert [data(e)["rows"] for e in steps] == sorted(data(e)["rows"] for e in steps)
    assert last.event == "succeeded"
    assert data(last)["download_url"] == f"/api/v1/exports/{export['id']}/download"


async def test_the_stream_of_a_finished_export_is_its_state_and_the_end(
    client: httpx.AsyncClient, app: FastAPI, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(TenantOrders, "page", broken)
    shop = await open_shop(client)
    export = await start_export(client, shop.owner.headers)
    first = await follow(live_server, shop.owner.headers, export["id"])
    again = await follow(live_server, shop.owner.headers, export["id"])

    assert [e.event for e in again] == ["progress", "failed"]
    assert data(again[0])["status"] == "failed"
    assert data(again[1])["error"] == flows.FAILED
    assert first[-1].event == "failed"

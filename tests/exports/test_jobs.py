"""The export job and its keepers: a file streamed chunk by chunk, a run started again
(the queue delivers at least once) restarting the file cleanly, a lost run found by
the sweeper, a failure recorded, and the 24 h purge."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from orderly.core.container import Container
from orderly.core.database import DATABASE, new_id, utcnow
from orderly.core.failures import FAILURES
from orderly.core.unit_of_work import unit_of_work
from orderly.exports import csvfile, flows
from orderly.exports.models import Export, ExportChunk
from orderly.exports.repository import ExportJobs, PageWritten, RunSupersededError
from orderly.orders.service import TenantOrders
from tests.exports.support import (
    EXPORTS,
    Shop,
    download_rows,
    finished,
    insert_orders,
    open_shop,
    start_export,
)


def container_of(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


async def add_export(app: FastAPI, shop: Shop, **columns: Any) -> str:
    export_id = new_id("exp")
    values = {"kind": "orders_csv", "status": "queued", "progress": 0, "rows": 0} | columns
    async with unit_of_work(container_of(app)) as uow:
        uow.session.add(Export(id=export_id, tenant_id=shop.owner.tenant_id, **values))
    return export_id


async def chunks_of(app: FastAPI, export_id: str) -> list[bytes]:
    async with unit_of_work(container_of(app), write=False) as uow:
        stmt = select(ExportChunk.data).where(ExportChunk.export_id == export_id)
        return list((await uow.session.execute(stmt.order_by(ExportChunk.seq))).scalars())


async def asgi_get(
    app: FastAPI, path: str, headers: dict[str, str], on_body: Any = None
) -> list[MutableMapping[str, Any]]:
    """GET through the whole ASGI stack, keeping every message the app sends."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if on_body is not None and message["type"] == "http.response.body":
            await on_body()

    await app(scope, receive, send)
    return sent


async def test_a_download_streams_one_chunk_at_a_time_holding_no_connection_between(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 1024)
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 60, lines=2)
    export = await start_export(client, shop.owner.headers)
    await finished(client, shop.owner.headers, export["id"])
    stored = await chunks_of(app, export["id"])
    assert len(stored) > 5
    assert all(len(chunk) == 1024 for chunk in stored[:-1])
    pool = part_engine(app).pool
    held: list[int] = []

    async def slow_client() -> None:
        held.append(pool.checkedout())
        await asyncio.sleep(0.01)

    sent = await asgi_get(
        app, f"{EXPORTS}/{export['id']}/download", shop.owner.headers, slow_client
    )
    start = sent[0]
    assert start["status"] == 200
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body" and m["body"]]
    assert bodies == stored
    assert dict(start["headers"])[b"content-length"] == str(sum(map(len, stored))).encode()
    assert set(held) == {0}


def part_engine(app: FastAPI) -> Any:
    return container_of(app)[DATABASE].engine


async def test_an_unfinished_export_is_409_not_ready_and_a_failed_one_too(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    for status in ("queued", "running", "failed"):
        export_id = await add_export(app, shop, status=status, run_token="someone")
        response = await client.get(f"{EXPORTS}/{export_id}/download", headers=shop.owner.headers)
        assert response.status_code == 409, status
        assert response.json()["code"] == "EXPORT_NOT_READY"
        assert status in response.json()["detail"]


async def test_a_finished_export_run_again_is_left_as_it_is(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 3)
    export = await start_export(client, shop.owner.headers)
    done = await finished(client, shop.owner.headers, export["id"])
    before = await chunks_of(app, export["id"])

    await flows.ExportRun(container_of(app)).run(export["id"])

    assert await chunks_of(app, export["id"]) == before
    again = (await client.get(f"{EXPORTS}/{export['id']}", headers=shop.owner.headers)).json()
    assert again == done


async def test_a_run_started_again_after_a_crash_rewrites_the_file_from_the_start(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 5)
    # A run that died half-way: running, its token, part of a file (and stale numbers).
    export_id = await add_export(app, shop, status="running", run_token="dead", runs=1, rows=99)
    async with unit_of_work(container_of(app)) as uow:
        for seq in range(4):
            uow.session.add(ExportChunk(export_id=export_id, seq=seq, data=b"garbage\r\n"))

    await flows.ExportRun(container_of(app)).run(export_id)

    rows = await download_rows(client, shop.owner.headers, export_id)
    assert len(rows) == 5
    assert b"garbage" not in b"".join(await chunks_of(app, export_id))
    body = (await client.get(f"{EXPORTS}/{export_id}", headers=shop.owner.headers)).json()
    assert (body["status"], body["rows"], body["progress"]) == ("succeeded", 5, 100)


async def test_an_older_run_stops_at_its_next_write_once_a_newer_one_took_over(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 2)
    export_id = await add_export(app, shop)
    container = container_of(app)
    async with unit_of_work(container) as uow:
        claimed = await ExportJobs(uow.session).claim(export_id, "older", flows.MAX_RUNS)
    assert claimed is not None

    await flows.ExportRun(container).run(export_id)  # the newer run, to the end

    with pytest.raises(RunSupersededError):
        async with unit_of_work(container) as uow:
            await ExportJobs(uow.session).write_page(
                export_id, "older", [b"late"], PageWritten(50, 1, 1, 4), finished=False
            )
    assert len(await download_rows(client, shop.owner.headers, export_id)) == 2


async def test_the_sweeper_queues_again_an_export_whose_job_was_lost(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 3)
    long_ago = utcnow() - flows.STALL_AFTER - timedelta(seconds=5)
    lost = await add_export(app, shop, status="queued", updated_at=long_ago)
    recent = await add_export(app, shop, status="running", run_token="alive")
    container = container_of(app)

    assert await flows.sweep(container) == 1

    done = await finished(client, shop.owner.headers, lost)
    assert (done["status"], done["rows"]) == ("succeeded", 3)
    body = (await client.get(f"{EXPORTS}/{recent}", headers=shop.owner.headers)).json()
    assert body["status"] == "running"  # alive: left to its run
    assert await flows.sweep(container) == 0


async def test_an_export_started_too_often_fails_for_good(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    export_id = await add_export(app, shop, status="running", runs=flows.MAX_RUNS)
    await flows.ExportRun(container_of(app)).run(export_id)
    body = (await client.get(f"{EXPORTS}/{export_id}", headers=shop.owner.headers)).json()
    assert body["status"] == "failed"
    assert f"{flows.MAX_RUNS} times" in body["error"]


async def test_a_run_that_breaks_is_failed_with_an_error_that_names_no_internals(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError('relation "orders" does not exist')

    monkeypatch.setattr(TenantOrders, "page", broken)
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 2)
    export = await start_export(client, shop.owner.headers)
    done = await finished(client, shop.owner.headers, export["id"])
    assert (done["status"], done["error"], done["download_url"]) == ("failed", flows.FAILED, None)
    assert container_of(app)[FAILURES].counts[f"job:{flows.RUN_JOB}"] >= 1
    download = await client.get(f"{EXPORTS}/{export['id']}/download", headers=shop.owner.headers)
    assert (download.status_code, download.json()["code"]) == (409, "EXPORT_NOT_READY")


async def test_exports_older_than_24_hours_are_gone_and_purged_with_their_files(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await insert_orders(part_engine(app), shop, 2)
    old = await start_export(client, shop.owner.headers)
    fresh = await start_export(client, shop.owner.headers)
    for export in (old, fresh):
        await finished(client, shop.owner.headers, export["id"])
    container = container_of(app)
    async with unit_of_work(container) as uow:
        await uow.session.execute(
            update(Export)
            .where(Export.id == old["id"])
            .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
    headers = shop.owner.headers
    for path in ("", "/download", "/progress"):
        gone = await client.get(f"{EXPORTS}/{old['id']}{path}", headers=headers)
        assert (gone.status_code, gone.json()["code"]) == (404, "EXPORT_NOT_FOUND"), path
    listed = (await client.get(EXPORTS, headers=headers)).json()["items"]
    assert [e["id"] for e in listed] == [fresh["id"]]

    assert await flows.purge(container) == 1

    assert await chunks_of(app, old["id"]) == []
    assert await chunks_of(app, fresh["id"]) != []
    async with unit_of_work(container, write=False) as uow:
        left = await uow.session.execute(select(func.count()).select_from(Export))
        assert left.scalar_one() == 1

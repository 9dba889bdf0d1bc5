"""Issue 14: "Export of 50,000 orders: progress reaches 100, the CSV parses with csv,
row count matches, and the server's RSS does not grow with the export size
(streamed)".

A real ``orderly serve`` runs the export job in its own process (embedded mode; in
scale-out with ``APP_WORKER_IN_PROCESS``), so its memory is the job's and the
download's. The orders are written with bulk SQL. The server's peak RSS while it
exports and serves 5,000 orders is compared with its peak for 50,000 (each three
lines: a file of ~25 MiB): reading a page at a time and streaming a chunk at a time,
the second peak is within a few MiB of the first; holding the orders or the file
would add more than the whole bound.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_SECRET
from tests.exports.support import EXPORTS, Shop, insert_orders
from tests.support.api import PASSWORD, unique_email
from tests.support.scale_out import FAST_PASSWORD_HASHING, scale_out_environment
from tests.support.server import running_process
from tests.support.services import Backend

pytestmark = pytest.mark.xdist_group("servers")

SMALL, LARGE, LINES = 5_000, 50_000, 3
GROWTH_BOUND = 16 * 1024 * 1024  # bytes of RSS the larger export may add at most
WAIT_SECONDS = 600.0


@pytest.fixture
def server_env(backend: Backend, tmp_path: Path) -> Iterator[dict[str, str]]:
    if backend.name == "sqlite":
        database = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
        yield {
            "APP_SECRET_KEY": TEST_SECRET,
            **FAST_PASSWORD_HASHING,
            "APP_LOG_LEVEL": "WARNING",
            "APP_DATABASE_URL": database,
        }
        return
    # The job runs in the server's process, so its memory is what the test measures.
    with scale_out_environment(APP_WORKER_IN_PROCESS="true") as env:
        yield env


def rss_bytes(pid: int) -> int:
    """Resident memory of the process and its children (from /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        pending += [int(child) for child in children.split()]
    return total


async def open_shop(client: httpx.AsyncClient, tag: str) -> Shop:
    from tests.support.api import Account

    email = unique_email(tag)
    registered = await client.post(
        "/api/v1/auth/register",
        json={"tenant_name": tag, "email": email, "password": PASSWORD, "full_name": "O"},
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    login = await client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    owner = Account(
        body["tenant"]["id"], body["user"]["id"], email, login.json()["access_token"], ""
    )
    plan = await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": "pro"})
    assert plan.status_code == 200, plan.text
    item = await client.post(
        "/api/v1/items",
        headers=owner.headers,
        json={
            "sku": f"SKU-{tag}",
            "name": "Widget",
            "price": "12.50",
            "currency": "USD",
            "stock": 1,
        },
    )
    assert item.status_code == 201, item.text
    return Shop(owner, item.json())


async def export_and_count(
    client: httpx.AsyncClient, shop: Shop
) -> tuple[dict[str, Any], int, int]:
    """Export the shop's orders and download them: the export, CSV data rows, bytes."""
    headers = shop.owner.headers
    created = await client.post(EXPORTS, headers=headers, json={"kind": "orders_csv"})
    assert created.status_code == 202, created.text
    export_id = created.json()["id"]
    for _ in range(int(WAIT_SECONDS / 0.2)):
        export = (await client.get(f"{EXPORTS}/{export_id}", headers=headers)).json()
        if export["status"] in {"succeeded", "failed"}:
            break
        await asyncio.sleep(0.2)
    assert (export["status"], export["progress"]) == ("succeeded", 100), export
    rows, size = 0, 0
    identity = headers | {"Accept-Encoding": "identity"}
    async with client.stream("GET", export["download_url"], headers=identity) as response:
        assert response.status_code == 200
        lines: list[str] = []
        async for text in response.aiter_text():
            size += len(text.encode())
            lines.append(text)
            if len(lines) > 64:
                rows += count_rows(lines)
        rows += count_rows(lines)
    return export, rows - 1, size  # less the header


def count_rows(pieces: list[str]) -> int:
    """CSV records in the complete lines of ``pieces`` (the rest stays for the next)."""
    text = "".join(pieces)
    cut = text.rfind("\r\n") + 2
    pieces[:] = [text[cut:]] if cut < len(text) else []
    return sum(1 for _ in csv.reader(text[:cut].splitlines()))


async def peak_while(pid: int, work: Any) -> tuple[Any, int]:
    peak = rss_bytes(pid)

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_bytes(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    try:
        result = await work
    finally:
        sampler.cancel()
    return result, peak


async def test_an_export_of_50000_orders_is_complete_and_streamed_in_bounded_memory(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    with ExitStack() as stack:
        url, process = stack.enter_context(running_process(tmp_path, server_env, start_seconds=60))
        engine = create_async_engine(server_env["APP_DATABASE_URL"])
        timeout = httpx.Timeout(60.0)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
                small, large = await open_shop(client, "small"), await open_shop(client, "large")
                # Paid: pending orders this old would keep the expiry job busy meanwhile.
                await insert_orders(engine, small, SMALL, lines=LINES, status="paid")
                await insert_orders(engine, large, LARGE, lines=LINES, status="paid")
                # Warm: the first export loads code and fills caches either way.
                await export_and_count(client, small)
                (export, rows, _), small_peak = await peak_while(
                    process.pid, export_and_count(client, small)
                )
                assert rows == export["rows"] == SMALL * LINES
                (export, rows, size), large_peak = await peak_while(
                    process.pid, export_and_count(client, large)
                )
        finally:
            await engine.dispose()
    assert rows == export["rows"] == LARGE * LINES
    growth = large_peak - small_peak
    print(  # noqa: T201 - the figures, for the report (pytest -s)
        f"RSS peak {SMALL}: {small_peak / 2**20:.1f} MiB, {LARGE}: "
        f"{large_peak / 2**20:.1f} MiB, file {size / 2**20:.1f} MiB"
    )
    assert size > GROWTH_BOUND  # holding the file alone would break the bound
    assert growth < GROWTH_BOUND, f"RSS grew {growth / 2**20:.1f} MiB"

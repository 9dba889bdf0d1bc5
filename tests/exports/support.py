"""Export tests' helpers: a shop on a plan with exports, orders written in bulk with
plain SQL (fast, and exactly as placed orders are stored), waiting for an export."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.core.database import new_id, utcnow
from orderly.orders.models import Order, OrderLine
from orderly.orders.states import OrderStatus
from tests.support.api import Account, add_item, register
from tests.support.eventually import WITHIN_SECONDS

EXPORTS = "/api/v1/exports"


@dataclass
class Shop:
    owner: Account
    item: dict[str, Any]


async def open_shop(client: httpx.AsyncClient, *, plan: str = "pro", name: str = "Exp") -> Shop:
    owner = await register(client, name)
    if plan != "free":
        moved = await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": plan})
        assert moved.status_code == 200, moved.text
    item = await add_item(client, owner.headers, stock=10, price="12.50", name="Widget")
    return Shop(owner, item)


async def insert_orders(
    engine: AsyncEngine,
    shop: Shop,
    count: int,
    *,
    lines: int = 1,
    status: str = "pending",
    newest: datetime | None = None,
    step: timedelta = timedelta(seconds=1),
    batch: int = 5_000,
) -> list[tuple[str, datetime]]:
    """``count`` orders of ``lines`` lines each (quantity 1, 2, ...) at 12.50 USD a unit,
    one per ``step`` back from ``newest``: (id, created_at), newest first."""
    start = newest or utcnow() - timedelta(seconds=1)
    made: list[tuple[str, datetime]] = []
    async with engine.begin() as conn:
        for offset in range(0, count, batch):
            orders, order_lines = [], []
            for n in range(offset, min(count, offset + batch)):
                order_id, at = new_id("ord"), start - n * step
                total = sum(1250 * q for q in range(1, lines + 1))
                orders.append(
                    {
                        "id": order_id,
                        "tenant_id": shop.owner.tenant_id,
                        "status": OrderStatus(status),
                        "currency": "USD",
                        "total_minor": total,
                        "user_id": shop.owner.user_id,
                        "api_key_id": None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                order_lines += [
                    {
                        "order_id": order_id,
                        "position": q - 1,
                        "item_id": shop.item["id"],
                        "sku": shop.item["sku"],
                        "name": shop.item["name"],
                        "quantity": q,
                        "unit_price_minor": 1250,
                    }
                    for q in range(1, lines + 1)
                ]
                made.append((order_id, at))
            await conn.execute(insert(cast(Table, Order.__table__)), orders)
            await conn.execute(insert(cast(Table, OrderLine.__table__)), order_lines)
    return made


async def finished(
    client: httpx.AsyncClient, headers: dict[str, str], export_id: str
) -> dict[str, Any]:
    """The export once it has succeeded or failed (polled; bounded)."""
    deadline = time.monotonic() + WITHIN_SECONDS * 2
    while True:
        response = await client.get(f"{EXPORTS}/{export_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in {"succeeded", "failed"}:
            return body
        assert time.monotonic() < deadline, f"export still {body['status']}: {body}"
        await asyncio.sleep(0.05)


async def start_export(
    client: httpx.AsyncClient, headers: dict[str, str], **filters: str
) -> dict[str, Any]:
    response = await client.post(EXPORTS, headers=headers, json={"kind": "orders_csv", **filters})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def download_rows(
    client: httpx.AsyncClient, headers: dict[str, str], export_id: str
) -> list[dict[str, str]]:
    response = await client.get(f"{EXPORTS}/{export_id}/download", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text, newline="")))

"""Creating items and reading the outbox in the catalog tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from orderly.core.database import DATABASE, Database
from orderly.events.models import Event
from orderly.items.models import Item
from tests.support.parts import part

ITEMS = "/api/v1/items"


def item_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "sku": f"SKU-{uuid.uuid4().hex[:8]}",
        "name": "Coffee mug",
        "price": "12.50",
        "currency": "USD",
        "stock": 10,
    }
    body.update(overrides)
    return body


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: object
) -> dict[str, Any]:
    response = await client.post(ITEMS, headers=headers, json=item_body(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def database(app: FastAPI) -> Database:
    db: Database = part(app, DATABASE)
    return db


async def events_of(app: FastAPI, tenant_id: str) -> list[Event]:
    async with database(app).session(write=False) as session:
        stmt = select(Event).where(Event.tenant_id == tenant_id).order_by(Event.id)
        return list((await session.execute(stmt)).scalars())


async def item_count(app: FastAPI, tenant_id: str) -> int:
    async with database(app).session(write=False) as session:
        stmt = select(func.count()).select_from(Item).where(Item.tenant_id == tenant_id)
        return int((await session.execute(stmt)).scalar_one())

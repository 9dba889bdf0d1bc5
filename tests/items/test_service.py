"""The catalog functions orders build on: loading orderable items, taking and returning
stock atomically, and the outbox rows that go with them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.database import Database
from orderly.core.dependencies import commit_unit
from orderly.core.identity import Principal, Role
from orderly.core.pagination import CURSORS
from orderly.core.response_cache import RESPONSE_CACHE
from orderly.items.exceptions import ItemNotFoundError
from orderly.items.models import Item
from orderly.items.repository import ItemRepository
from orderly.items.schemas import ItemCreate, ItemUpdate
from orderly.items.service import (
    LOW_STOCK_THRESHOLD,
    ItemService,
    load_orderable_items,
    release_stock,
    reserve_stock,
)
from orderly.tenants.service import create_tenant
from tests.items.helpers import ITEMS, create, database, events_of, item_count
from tests.support.api import register
from tests.support.database import count_statements
from tests.support.parts import part


@pytest.fixture
def db(app: FastAPI) -> Database:
    return database(app)


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session(write=True) as session:
        yield session


async def _tenant(db: Database, name: str = "Shop") -> str:
    async with db.session(write=True) as session:
        tenant = await create_tenant(session, name)
        await session.commit()
        return tenant.id


def _service(session: AsyncSession, app: FastAPI, tenant_id: str) -> ItemService:
    principal = Principal(tenant_id=tenant_id, user_id="usr_test", role=Role.OWNER)
    return ItemService(session, principal, part(app, CURSORS))


async def _item(
    db: Database, app: FastAPI, tenant_id: str, stock: int = 10, sku: str = "S"
) -> str:
    async with db.session(write=True) as session:
        data = ItemCreate(sku=sku, name="Mug", price="2.00", currency="EUR", stock=stock)
        item = await _service(session, app, tenant_id).create(data)
        await session.commit()
        return item.id


async def _fresh(db: Database, item_id: str) -> Item:
    async with db.session(write=False) as session:
        item = await session.get(Item, item_id)
        assert item is not None
        return item


async def test_reserving_takes_the_stock_and_bumps_the_version(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=10)
    assert await reserve_stock(session, tenant, item_id, 3) == 7
    await session.commit()
    item = await _fresh(db, item_id)
    assert (item.stock, item.version) == (7, 2)


async def test_not_enough_stock_returns_none_and_takes_nothing(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=2)
    assert await reserve_stock(session, tenant, item_id, 3) is None
    await session.commit()
    item = await _fresh(db, item_id)
    assert (item.stock, item.version) == (2, 1)


async def test_the_last_units_can_be_taken(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=2)
    assert await reserve_stock(session, tenant, item_id, 2) == 0
    assert await reserve_stock(session, tenant, item_id, 1) is None


async def test_archived_and_other_tenants_items_cannot_be_reserved(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant, other = await _tenant(db, "Mine"), await _tenant(db, "Theirs")
    archived = await _item(db, app, tenant, sku="OLD")
    theirs = await _item(db, app, other, sku="THEIRS")
    await _service(session, app, tenant).archive(archived)
    assert await reserve_stock(session, tenant, archived, 1) is None
    assert await reserve_stock(session, tenant, theirs, 1) is None
    assert await reserve_stock(session, tenant, "itm_unknown", 1) is None
    await session.commit()
    assert (await _fresh(db, theirs)).stock == 10


async def test_crossing_the_low_stock_threshold_records_one_event(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=LOW_STOCK_THRESHOLD + 2)
    assert await reserve_stock(session, tenant, item_id, 1) == LOW_STOCK_THRESHOLD + 1
    assert await reserve_stock(session, tenant, item_id, 2) == LOW_STOCK_THRESHOLD - 1
    assert await reserve_stock(session, tenant, item_id, 1) == LOW_STOCK_THRESHOLD - 2
    await session.commit()
    low = [e for e in await events_of(app, tenant) if e.type == "item.stock_low"]
    assert len(low) == 1
    assert low[0].subject_id == item_id
    assert low[0].payload["stock"] == LOW_STOCK_THRESHOLD - 1
    assert low[0].payload["price"] == "2.00"
    assert low[0].payload["version"] == 3


async def test_a_failed_reservation_records_no_event(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=LOW_STOCK_THRESHOLD + 1)
    assert await reserve_stock(session, tenant, item_id, LOW_STOCK_THRESHOLD + 2) is None
    await session.commit()
    assert [e.type for e in await events_of(app, tenant)] == ["item.created"]


async def test_concurrent_reservations_never_oversell(app: FastAPI, db: Database) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=10)

    async def one() -> int | None:
        async with db.session(write=True) as session:
            left = await reserve_stock(session, tenant, item_id, 1)
            await session.commit()
            return left

    results = await asyncio.gather(*(one() for _ in range(25)))
    taken = [left for left in results if left is not None]
    assert sorted(taken) == list(range(10))
    item = await _fresh(db, item_id)
    assert (item.stock, item.version) == (0, 11)


async def test_releasing_puts_stock_back_even_on_an_archived_item(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=4)
    await reserve_stock(session, tenant, item_id, 3)
    await _service(session, app, tenant).archive(item_id)
    await release_stock(session, tenant, item_id, 3)
    await session.commit()
    item = await _fresh(db, item_id)
    assert (item.stock, item.version, item.active) == (4, 4, False)


async def test_releasing_another_tenants_item_is_not_found(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant, other = await _tenant(db, "Mine"), await _tenant(db, "Theirs")
    theirs = await _item(db, app, other)
    with pytest.raises(ItemNotFoundError):
        await release_stock(session, tenant, theirs, 1)


@pytest.mark.parametrize("quantity", [0, -1])
async def test_quantities_must_be_positive(
    app: FastAPI, db: Database, session: AsyncSession, quantity: int
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant)
    with pytest.raises(ValueError, match="positive"):
        await reserve_stock(session, tenant, item_id, quantity)
    with pytest.raises(ValueError, match="positive"):
        await release_stock(session, tenant, item_id, quantity)


async def test_orderable_items_are_the_tenants_live_ones_in_one_query(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant, other = await _tenant(db, "Mine"), await _tenant(db, "Theirs")
    live = await _item(db, app, tenant, sku="LIVE")
    archived = await _item(db, app, tenant, sku="OLD")
    theirs = await _item(db, app, other, sku="THEIRS")
    await _service(session, app, tenant).archive(archived)
    with count_statements(db.engine) as statements:
        found = await load_orderable_items(
            session, tenant, [live, archived, theirs, "itm_unknown"]
        )
    assert list(found) == [live]
    assert found[live].sku == "LIVE"
    assert len(statements) == 1
    assert await load_orderable_items(session, tenant, []) == {}


async def test_a_reservation_refreshes_the_items_already_loaded(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    item_id = await _item(db, app, tenant, stock=5)
    loaded = await ItemRepository(session, tenant).get(item_id)
    assert loaded is not None
    await reserve_stock(session, tenant, item_id, 2)
    assert (loaded.stock, loaded.version) == (3, 2)


async def test_a_rolled_back_change_leaves_no_item_and_no_event(
    app: FastAPI, db: Database, session: AsyncSession
) -> None:
    tenant = await _tenant(db)
    service = _service(session, app, tenant)
    data = ItemCreate(sku="GONE", name="Mug", price="1.00", currency="USD", stock=1)
    item = await service.create(data)
    await service.update(item.id, ItemUpdate(stock=5), if_match=None)
    await reserve_stock(session, tenant, item.id, 5)
    await session.rollback()
    assert await item_count(app, tenant) == 0
    assert await events_of(app, tenant) == []


async def test_stock_taken_is_seen_by_the_next_read_with_a_new_etag(
    app: FastAPI, db: Database, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, stock=5)
    path = f"{ITEMS}/{item['id']}"
    before = await client.get(path, headers=owner.headers)
    async with db.session(write=True) as session:
        await reserve_stock(session, owner.tenant_id, item["id"], 2)
        await commit_unit(part(app, RESPONSE_CACHE), session)
    after = await client.get(
        path, headers=owner.headers | {"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert (after.json()["stock"], after.json()["version"]) == (3, 2)
    assert after.headers["etag"] != before.headers["etag"]

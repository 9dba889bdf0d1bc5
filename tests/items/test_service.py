"""The catalog functions orders build on: loading orderable items, taking and returning
stock atomically, and the outbox rows that go with them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from orderly.core.container import Container
from orderly.core.database import DATABASE
from orderly.core.identity import Principal, Role
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.items.exceptions import ItemNotFoundError
from orderly.items.models import Item
from orderly.items.repository import ItemRepository
from orderly.items.schemas import ItemCreate, ItemUpdate
from orderly.items.service import LOW_STOCK_THRESHOLD, ItemService
from orderly.tenants.service import TenantService
from tests.items.helpers import ITEMS, create, events_of, item_count
from tests.support.api import register
from tests.support.database import count_statements


@pytest.fixture
def container(app: FastAPI) -> Container:
    parts: Container = app.state.container
    return parts


def _owner(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id="usr_test", role=Role.OWNER)


def _work(container: Container, tenant_id: str) -> UnitOfWork:
    """A unit of work of the tenant's owner: commits on a clean exit."""
    return unit_of_work(container, _owner(tenant_id))


async def _tenant(container: Container, name: str = "Shop") -> str:
    async with unit_of_work(container) as uow:
        return (await TenantService(uow, container).create(name)).id


async def _item(container: Container, tenant_id: str, stock: int = 10, sku: str = "S") -> str:
    async with _work(container, tenant_id) as uow:
        data = ItemCreate(sku=sku, name="Mug", price="2.00", currency="EUR", stock=stock)
        return (await ItemService(uow, container).create(data)).id


async def _fresh(container: Container, item_id: str) -> Item:
    async with container[DATABASE].session(write=False) as session:
        item = await session.get(Item, item_id)
        assert item is not None
        return item


async def test_reserving_takes_the_stock_and_bumps_the_version(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=10)
    async with _work(container, tenant) as uow:
        assert await ItemService(uow, container).reserve(item_id, 3) == 7
    item = await _fresh(container, item_id)
    assert (item.stock, item.version) == (7, 2)


async def test_not_enough_stock_returns_none_and_takes_nothing(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=2)
    async with _work(container, tenant) as uow:
        assert await ItemService(uow, container).reserve(item_id, 3) is None
    item = await _fresh(container, item_id)
    assert (item.stock, item.version) == (2, 1)


async def test_the_last_units_can_be_taken(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=2)
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        assert await items.reserve(item_id, 2) == 0
        assert await items.reserve(item_id, 1) is None


async def test_archived_and_other_tenants_items_cannot_be_reserved(
    container: Container,
) -> None:
    tenant, other = await _tenant(container, "Mine"), await _tenant(container, "Theirs")
    archived = await _item(container, tenant, sku="OLD")
    theirs = await _item(container, other, sku="THEIRS")
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        await items.archive(archived)
        assert await items.reserve(archived, 1) is None
        assert await items.reserve(theirs, 1) is None
        assert await items.reserve("itm_unknown", 1) is None
    assert (await _fresh(container, theirs)).stock == 10


async def test_crossing_the_low_stock_threshold_records_one_event(
    app: FastAPI, container: Container
) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=LOW_STOCK_THRESHOLD + 2)
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        assert await items.reserve(item_id, 1) == LOW_STOCK_THRESHOLD + 1
        assert await items.reserve(item_id, 2) == LOW_STOCK_THRESHOLD - 1
        assert await items.reserve(item_id, 1) == LOW_STOCK_THRESHOLD - 2
    low = [e for e in await events_of(app, tenant) if e.type == "item.stock_low"]
    assert len(low) == 1
    assert low[0].subject_id == item_id
    assert low[0].payload["stock"] == LOW_STOCK_THRESHOLD - 1
    assert low[0].payload["price"] == "2.00"
    assert low[0].payload["version"] == 3


async def test_a_failed_reservation_records_no_event(app: FastAPI, container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=LOW_STOCK_THRESHOLD + 1)
    async with _work(container, tenant) as uow:
        assert await ItemService(uow, container).reserve(item_id, LOW_STOCK_THRESHOLD + 2) is None
    assert [e.type for e in await events_of(app, tenant)] == ["item.created"]


async def test_concurrent_reservations_never_oversell(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=10)

    async def one() -> int | None:
        async with _work(container, tenant) as uow:
            return await ItemService(uow, container).reserve(item_id, 1)

    results = await asyncio.gather(*(one() for _ in range(25)))
    taken = [left for left in results if left is not None]
    assert sorted(taken) == list(range(10))
    item = await _fresh(container, item_id)
    assert (item.stock, item.version) == (0, 11)


async def test_releasing_puts_stock_back_even_on_an_archived_item(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=4)
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        await items.reserve(item_id, 3)
        await items.archive(item_id)
        await items.release(item_id, 3)
    item = await _fresh(container, item_id)
    assert (item.stock, item.version, item.active) == (4, 4, False)


async def test_releasing_another_tenants_item_is_not_found(container: Container) -> None:
    tenant, other = await _tenant(container, "Mine"), await _tenant(container, "Theirs")
    theirs = await _item(container, other)
    async with _work(container, tenant) as uow:
        with pytest.raises(ItemNotFoundError):
            await ItemService(uow, container).release(theirs, 1)


@pytest.mark.parametrize("quantity", [0, -1])
async def test_quantities_must_be_positive(container: Container, quantity: int) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant)
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        with pytest.raises(ValueError, match="positive"):
            await items.reserve(item_id, quantity)
        with pytest.raises(ValueError, match="positive"):
            await items.release(item_id, quantity)


async def test_orderable_items_are_the_tenants_live_ones_in_one_query(
    container: Container,
) -> None:
    tenant, other = await _tenant(container, "Mine"), await _tenant(container, "Theirs")
    live = await _item(container, tenant, sku="LIVE")
    archived = await _item(container, tenant, sku="OLD")
    theirs = await _item(container, other, sku="THEIRS")
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        await items.archive(archived)
        with count_statements(container[DATABASE].engine) as statements:
            found = await items.orderable([live, archived, theirs, "itm_unknown"])
        assert await items.orderable([]) == {}
    assert list(found) == [live]
    assert found[live].sku == "LIVE"
    assert len(statements) == 1


async def test_a_reservation_refreshes_the_items_already_loaded(container: Container) -> None:
    tenant = await _tenant(container)
    item_id = await _item(container, tenant, stock=5)
    async with _work(container, tenant) as uow:
        loaded = await ItemRepository(uow.session, tenant).get(item_id)
        assert loaded is not None
        await ItemService(uow, container).reserve(item_id, 2)
        assert (loaded.stock, loaded.version) == (3, 2)


async def test_a_rolled_back_change_leaves_no_item_and_no_event(
    app: FastAPI, container: Container
) -> None:
    tenant = await _tenant(container)
    async with _work(container, tenant) as uow:
        items = ItemService(uow, container)
        data = ItemCreate(sku="GONE", name="Mug", price="1.00", currency="USD", stock=1)
        item = await items.create(data)
        await items.update(item.id, ItemUpdate(stock=5), if_match=None)
        await items.reserve(item.id, 5)
        await uow.rollback()
    assert await item_count(app, tenant) == 0
    assert await events_of(app, tenant) == []


async def test_stock_taken_is_seen_by_the_next_read_with_a_new_etag(
    container: Container, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, stock=5)
    path = f"{ITEMS}/{item['id']}"
    before = await client.get(path, headers=owner.headers)
    async with _work(container, owner.tenant_id) as uow:
        await ItemService(uow, container).reserve(item["id"], 2)
    after = await client.get(
        path, headers=owner.headers | {"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert (after.json()["stock"], after.json()["version"]) == (3, 2)
    assert after.headers["etag"] != before.headers["etag"]

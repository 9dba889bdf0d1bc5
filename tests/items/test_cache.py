"""The catalog read cache never serves a stale read after a write, nor another
tenant's data (both backends: in-process store on SQLite, Redis on PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from orderly.core.database import DATABASE
from orderly.core.response_cache import RESPONSE_CACHE
from orderly.core.tasks import TASKS
from tests.support.api import add_item, place_order, register
from tests.support.database import count_statements
from tests.support.eventually import eventually
from tests.support.parts import part
from tests.support.world import ALL_SCOPES, build_world


async def test_reads_are_cached_and_writes_are_visible_to_the_next_read(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    world = await build_world(client)
    key = await world.key_with(ALL_SCOPES)
    item = await add_item(client, world.owner.headers, stock=10, name="Before")
    path = f"/api/v1/items/{item['id']}"
    for headers in (world.owner.headers, key):  # warm both list and item entries
        assert (await client.get("/api/v1/items", headers=headers)).status_code == 200
        assert (await client.get(path, headers=headers)).json()["name"] == "Before"

    renamed = await client.patch(path, headers=world.owner.headers, json={"name": "After"})
    assert renamed.status_code == 200
    # Another principal (an API key) reads right after the owner's write.
    assert (await client.get(path, headers=key)).json()["name"] == "After"
    names = [i["name"] for i in (await client.get("/api/v1/items", headers=key)).json()["items"]]
    assert "After" in names
    assert "Before" not in names

    etag = (await client.get(path, headers=key)).headers["etag"]
    await place_order(client, world.member.headers, [(item["id"], 3)])
    fresh = await client.get(path, headers=key | {"If-None-Match": etag})
    assert fresh.status_code == 200  # the order changed the stock, hence the ETag
    assert fresh.json()["stock"] == 7
    assert fresh.headers["etag"] != etag
    unchanged = await client.get(path, headers=key | {"If-None-Match": fresh.headers["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == fresh.headers["etag"]
    assert unchanged.headers["cache-control"] == "private, no-cache"


async def test_a_cached_list_is_never_served_to_another_tenant(client: httpx.AsyncClient) -> None:
    first = await register(client, "First")
    second = await register(client, "Second")
    await add_item(client, first.headers, name="First's secret")
    seen_by_first = (await client.get("/api/v1/items", headers=first.headers)).json()["items"]
    assert [i["name"] for i in seen_by_first] == ["First's secret"]
    seen_by_second = (await client.get("/api/v1/items", headers=second.headers)).json()
    assert seen_by_second["items"] == []


async def test_a_rolled_back_write_does_not_invalidate_or_poison(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=1)
    before = (await client.get(f"/api/v1/items/{item['id']}", headers=owner.headers)).json()
    failed = await place_order(client, owner.headers, [(item["id"], 5)])
    assert failed.status_code == 409
    after = (await client.get(f"/api/v1/items/{item['id']}", headers=owner.headers)).json()
    assert after == before


@pytest.mark.parametrize("cache_enabled", [False])
async def test_the_cache_can_be_switched_off(
    client: httpx.AsyncClient, app: FastAPI, cache_enabled: bool
) -> None:
    part(app, RESPONSE_CACHE).enabled = cache_enabled
    owner = await register(client)
    item = await add_item(client, owner.headers, name="Plain")
    response = await client.get(f"/api/v1/items/{item['id']}", headers=owner.headers)
    assert response.json()["name"] == "Plain"
    assert response.headers["etag"] == f'"{item["id"]}-v1"'


def _selects_from(statements: list[str], table: str) -> list[str]:
    return [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s
    ]


async def test_concurrent_misses_of_one_entry_run_one_query(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """An expired or invalidated hot entry under load costs one query, not one per
    request in flight (the stampede that made p99 a second in the benchmark)."""
    owner = await register(client)
    for _ in range(3):
        await add_item(client, owner.headers)
    engine = part(app, DATABASE).engine
    with count_statements(engine) as statements:
        pages = await asyncio.gather(
            *(client.get("/api/v1/items?limit=7", headers=owner.headers) for _ in range(20))
        )
    assert {page.status_code for page in pages} == {200}
    assert len({page.content for page in pages}) == 1
    assert len(_selects_from(statements, "items")) == 1


async def test_a_cold_api_key_is_looked_up_and_its_use_recorded_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    world = await build_world(client)
    key = await world.key_with(ALL_SCOPES)  # created, never used: no process cached it
    with count_statements(part(app, DATABASE).engine) as statements:
        answers = await asyncio.gather(
            *(client.get(f"/api/v1/items?limit={n}", headers=key) for n in range(1, 21))
        )
        await part(app, TASKS).drain()

        def updates() -> list[str]:
            return [s for s in statements if s.startswith("UPDATE api_keys SET last_used_at")]

        # The use is recorded by a job: in process, or by the app's SAQ worker.
        await eventually(updates, "the key's use recorded")
    assert {answer.status_code for answer in answers} == {200}
    assert len(_selects_from(statements, "api_keys")) == 1
    assert len(updates()) == 1

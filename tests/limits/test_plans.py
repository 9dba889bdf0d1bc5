"""Plans (SPEC "Plans and traffic protection"): the tenant's plan, limits and usage,
owners changing them, counts enforced race-free at creation, features gated. Both
backends, through the HTTP API."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.identity import Plan
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.exceptions import PlanUpgradeRequiredError
from orderly.tenants.gate import PLAN_GATE
from orderly.tenants.plans import PlanTable
from tests.conftest import make_settings
from tests.items.helpers import events_of, item_count
from tests.support.api import Account, add_api_key, add_item, add_user, register
from tests.support.services import Backend

# Small counts, so that "at the limit" is a few requests away.
ITEM_LIMIT = 3
PLAN_LIMITS = {"free": {"items": ITEM_LIMIT}, "pro": {"items": 50}}


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(backend, plan_limits=PLAN_LIMITS)


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


def _item_body() -> dict[str, object]:
    return {
        "sku": f"SKU-{uuid.uuid4().hex[:10]}",
        "name": "W",
        "price": "1.00",
        "currency": "USD",
        "stock": 1,
    }


async def test_the_tenant_shows_its_plan_limits_and_usage(
    client: httpx.AsyncClient, owner: Account
) -> None:
    await add_item(client, owner.headers)
    await add_api_key(client, owner, ["read:items"])

    answer = await client.get("/api/v1/tenant", headers=owner.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["id"], body["plan"]) == (owner.tenant_id, "free")
    assert body["limits"] == {
        "requests_per_minute": 120,
        "items": ITEM_LIMIT,  # APP_PLAN_LIMITS merged over the default 100
        "api_keys": 2,
        "webhook_endpoints": 1,
        "exports": False,
        "graphql_mutations": False,
    }
    assert body["usage"] == {"items": 1, "api_keys": 1, "webhook_endpoints": 0}


async def test_an_unlimited_count_is_null(client: httpx.AsyncClient, owner: Account) -> None:
    moved = await client.put(
        "/api/v1/tenant/plan", headers=owner.headers, json={"plan": "enterprise"}
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["limits"]["items"] is None
    assert moved.json()["limits"]["exports"] is True


async def test_the_owner_renames_the_tenant(client: httpx.AsyncClient, owner: Account) -> None:
    renamed = await client.patch(
        "/api/v1/tenant", headers=owner.headers, json={"name": "Acme Renamed"}
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Acme Renamed"
    assert (await client.get("/api/v1/tenant", headers=owner.headers)).json()["name"] == (
        "Acme Renamed"
    )


async def test_only_the_owner_changes_name_or_plan(
    client: httpx.AsyncClient, owner: Account
) -> None:
    admin = await add_user(client, owner, "admin")
    key = await add_api_key(client, owner, ["read:items", "write:items"])

    renamed = await client.patch("/api/v1/tenant", headers=admin.headers, json={"name": "X"})
    moved = await client.put("/api/v1/tenant/plan", headers=admin.headers, json={"plan": "pro"})
    by_key = await client.get("/api/v1/tenant", headers={"X-API-Key": key["key"]})

    assert (renamed.status_code, moved.status_code, by_key.status_code) == (403, 403, 403)
    assert (await client.get("/api/v1/tenant", headers=admin.headers)).json()["plan"] == "free"


async def test_a_plan_change_is_recorded_as_an_event_once(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    first = await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": "pro"})
    again = await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": "pro"})

    assert (first.status_code, again.status_code) == (200, 200)
    changes = [e for e in await events_of(app, owner.tenant_id) if e.type.startswith("tenant.")]
    assert [(e.type, e.payload) for e in changes] == [
        (
            "tenant.plan_changed",
            {"id": owner.tenant_id, "plan": "pro", "previous_plan": "free"},
        )
    ]


async def test_an_item_over_the_plan_is_402_with_plan_limit_and_max(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    for _ in range(ITEM_LIMIT):
        await add_item(client, owner.headers)

    refused = await client.post("/api/v1/items", headers=owner.headers, json=_item_body())

    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "PLAN_LIMIT_REACHED"
    assert (problem["plan"], problem["limit"], problem["max"]) == ("free", "items", ITEM_LIMIT)
    assert problem["request_id"] == refused.headers["x-request-id"]
    assert await item_count(app, owner.tenant_id) == ITEM_LIMIT


async def test_archiving_an_item_makes_room_and_a_higher_plan_lifts_the_limit(
    client: httpx.AsyncClient, owner: Account
) -> None:
    items = [await add_item(client, owner.headers) for _ in range(ITEM_LIMIT)]
    archived = await client.delete(f"/api/v1/items/{items[0]['id']}", headers=owner.headers)
    assert archived.status_code == 204
    await add_item(client, owner.headers)  # in the archived one's place
    full = await client.post("/api/v1/items", headers=owner.headers, json=_item_body())
    assert full.status_code == 402

    await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": "pro"})

    assert (
        await client.post("/api/v1/items", headers=owner.headers, json=_item_body())
    ).status_code == 201


async def test_twenty_concurrent_items_at_the_limit_leave_exactly_the_limit(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    await add_item(client, owner.headers)  # one below the limit... and then some
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/items", headers=owner.headers, json=_item_body())
            for _ in range(20)
        )
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * (ITEM_LIMIT - 1) + [402] * (20 - ITEM_LIMIT + 1)
    assert await item_count(app, owner.tenant_id) == ITEM_LIMIT


async def test_twenty_concurrent_api_keys_at_the_limit_leave_exactly_the_limit(
    client: httpx.AsyncClient, owner: Account
) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/v1/api-keys",
                headers=owner.headers,
                json={"name": f"k{n}", "scopes": ["read:items"]},
            )
            for n in range(20)
        )
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 2 + [402] * 18  # the free plan's 2
    refused = next(a for a in answers if a.status_code == 402).json()
    assert (refused["limit"], refused["max"]) == ("api_keys", 2)
    listed = await client.get("/api/v1/api-keys", headers=owner.headers)
    assert len(listed.json()["items"]) == 2
    assert (await client.get("/api/v1/tenant", headers=owner.headers)).json()["usage"][
        "api_keys"
    ] == 2


async def test_a_revoked_key_frees_its_place(client: httpx.AsyncClient, owner: Account) -> None:
    keys = [await add_api_key(client, owner, ["read:items"], name=f"k{n}") for n in range(2)]
    revoked = await client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=owner.headers)
    assert revoked.status_code == 204

    assert (await add_api_key(client, owner, ["read:items"], name="k3"))["key"].startswith("sk_")


async def test_a_feature_outside_the_plan_is_402_upgrade_required(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    gate = app.state.container[PLAN_GATE]

    async with unit_of_work(app.state.container) as uow:
        with pytest.raises(PlanUpgradeRequiredError) as refused:
            await gate.require_feature(uow, "exports", tenant_id=owner.tenant_id)
    assert refused.value.status == 402
    assert refused.value.extensions == {"plan": "free", "feature": "exports"}

    await client.put("/api/v1/tenant/plan", headers=owner.headers, json={"plan": "pro"})
    async with unit_of_work(app.state.container) as uow:
        plan = await gate.require_feature(uow, "exports", tenant_id=owner.tenant_id)
    assert plan == "pro"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gold": {"items": 1}}, "unknown plan 'gold'"),
        ({"free": {"itemz": 1}}, "unknown limit"),
        ({"free": {"items": -1}}, "whole number"),
        ({"free": {"exports": 1}}, "true or false"),
    ],
)
def test_a_malformed_plan_override_stops_the_start(
    overrides: dict[str, dict[str, int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PlanTable(overrides)


def test_plan_limits_are_read_from_json_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_PLAN_LIMITS", '{"enterprise": {"requests_per_minute": 100000000}}')

    settings = Settings(_env_file=None)

    table = PlanTable(settings.plan_limits)
    quota = table.quota(Plan.ENTERPRISE)
    assert quota is not None
    assert quota.limit == 100_000_000
    assert table.limits(Plan.FREE).requests_per_minute == 120

"""Another tenant's data answers 404, exactly as if it did not exist.

Tenant A creates one of everything; tenant B's owner (and B's all-scopes API key) asks
for each of A's objects through every tenant-scoped route. A new route is covered by
adding one line to ``ROUTES``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.world import ALL_SCOPES, World, build_world

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/api/v1/users/{user_id}", None),
    ("PATCH", "/api/v1/users/{user_id}", {"full_name": "Hijacked"}),
    ("DELETE", "/api/v1/users/{user_id}", None),
    ("DELETE", "/api/v1/api-keys/{key_id}", None),
    ("GET", "/api/v1/items/{item_id}", None),
    ("PATCH", "/api/v1/items/{item_id}", {"name": "Hijacked"}),
    ("DELETE", "/api/v1/items/{item_id}", None),
    ("GET", "/api/v1/orders/{order_id}", None),
    ("POST", "/api/v1/orders/{order_id}/cancel", None),
    ("GET", "/api/v1/webhooks/{endpoint_id}", None),
    ("PATCH", "/api/v1/webhooks/{endpoint_id}", {"enabled": False}),
    ("DELETE", "/api/v1/webhooks/{endpoint_id}", None),
    ("POST", "/api/v1/webhooks/{endpoint_id}/rotate-secret", None),
    ("POST", "/api/v1/webhooks/{endpoint_id}/test", None),
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries", None),
    ("POST", "/api/v1/webhooks/{endpoint_id}/recover", {"since": "2026-01-01T00:00:00Z"}),
]

LISTS = [
    "/api/v1/users",
    "/api/v1/api-keys",
    "/api/v1/items",
    "/api/v1/orders",
    "/api/v1/webhooks",
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_other_tenants_objects_are_not_found(
    client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    tenant_a = await build_world(client, "Tenant A")
    tenant_b = await build_world(client, "Tenant B")
    for headers in (tenant_b.owner.headers, await tenant_b.key_with(ALL_SCOPES)):
        response = await client.request(
            method, path.format(**tenant_a.ids), headers=headers, json=body
        )
        if response.status_code == 403 and "X-API-Key" in headers:
            continue  # a route API keys may not use at all never reaches the lookup
        assert response.status_code == 404, response.text
    await _assert_untouched(client, tenant_a)


async def _assert_untouched(client: httpx.AsyncClient, world: World) -> None:
    headers = world.owner.headers
    user = (await client.get(f"/api/v1/users/{world.ids['user_id']}", headers=headers)).json()
    assert user["is_active"] is True
    assert user["full_name"] != "Hijacked"
    keys = (await client.get("/api/v1/api-keys", headers=headers)).json()["items"]
    assert world.ids["key_id"] in {key["id"] for key in keys}
    item = (await client.get(f"/api/v1/items/{world.ids['item_id']}", headers=headers)).json()
    # version 2: placing the world's order took one from stock (10 -> 9).
    assert (item["name"], item["active"], item["version"], item["stock"]) == ("Target", True, 2, 9)
    endpoint = await client.get(f"/api/v1/webhooks/{world.ids['endpoint_id']}", headers=headers)
    assert endpoint.status_code == 200
    assert endpoint.json()["enabled"] is True
    assert endpoint.json()["previous_secret_expires_at"] is None  # not rotated


@pytest.mark.parametrize("path", LISTS)
async def test_lists_show_only_the_callers_tenant(client: httpx.AsyncClient, path: str) -> None:
    tenant_a = await build_world(client, "Tenant A")
    tenant_b = await build_world(client, "Tenant B")
    listed_by_b = (await client.get(path, headers=tenant_b.owner.headers)).json()["items"]
    a_ids = set(tenant_a.ids.values()) | {tenant_a.owner.user_id}
    assert all(row["id"] not in a_ids for row in listed_by_b)
    assert listed_by_b

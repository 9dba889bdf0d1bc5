"""Who may call what: one table, every guarded route x every kind of principal.

Columns: owner, admin, member, an API key holding the route's scope (key+), and an
API key holding every scope but that one (key-). A route that takes no API key has
no scope; both key columns then expect 403.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from orderly.config import Settings
from orderly.main import create_app
from tests.support.api import PASSWORD, unique_email
from tests.support.world import build_world

PRINCIPALS = ("owner", "admin", "member", "key+", "key-")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    scope: str | None
    expected: tuple[int, int, int, int, int]
    body: Any = None


def _order_lines(ids: dict[str, str]) -> dict[str, object]:
    return {"lines": [{"item_id": ids["item_id"], "quantity": 1}]}


def _new_user(_ids: dict[str, str]) -> dict[str, str]:
    return {"email": unique_email(), "password": PASSWORD, "full_name": "New", "role": "member"}


def _webhook_cases() -> dict[str, Case]:
    """Owners, admins and keys with manage:webhooks; members never. The world's
    delivery id names no delivery, so its routes answer 404 to those admitted."""
    scope, ok = "manage:webhooks", (200, 200, 403, 200, 403)
    one = "/api/v1/webhooks/{endpoint_id}"
    delivery = one + "/deliveries/{delivery_id}"
    new = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
    return {
        "webhooks.create": Case("POST", "/api/v1/webhooks", scope, (201, 201, 403, 201, 403), new),
        "webhooks.list": Case("GET", "/api/v1/webhooks", scope, ok),
        "webhooks.get": Case("GET", one, scope, ok),
        "webhooks.patch": Case("PATCH", one, scope, ok, {"description": "sync"}),
        "webhooks.delete": Case("DELETE", one, scope, (204, 204, 403, 204, 403)),
        "webhooks.rotate": Case("POST", one + "/rotate-secret", scope, ok),
        "webhooks.test": Case("POST", one + "/test", scope, (202, 202, 403, 202, 403)),
        "webhooks.deliveries": Case("GET", one + "/deliveries", scope, ok),
        "webhooks.attempts": Case("GET", delivery + "/attempts", scope, (404, 404, 403, 404, 403)),
        "webhooks.redeliver": Case(
            "POST", delivery + "/redeliver", scope, (404, 404, 403, 404, 403)
        ),
        "webhooks.recover": Case(
            "POST",
            one + "/recover",
            scope,
            (202, 202, 403, 202, 403),
            {"since": "2026-01-01T00:00:00Z"},
        ),
    }


def _export_cases() -> dict[str, Case]:
    """Owners, admins and keys with read:orders; members never (an export holds every
    order of the tenant). The world is on the free plan, so those admitted to create
    one reach the plan's 402; its export id names no export (404)."""
    scope, missing = "read:orders", (404, 404, 403, 404, 403)
    one = "/api/v1/exports/{export_id}"
    return {
        "exports.create": Case(
            "POST", "/api/v1/exports", scope, (402, 402, 403, 402, 403), {"kind": "orders_csv"}
        ),
        "exports.list": Case("GET", "/api/v1/exports", scope, (200, 200, 403, 200, 403)),
        "exports.get": Case("GET", one, scope, missing),
        "exports.progress": Case("GET", one + "/progress", scope, missing),
        "exports.download": Case("GET", one + "/download", scope, missing),
    }


MATRIX: dict[str, Case] = {
    "users.me": Case("GET", "/api/v1/users/me", None, (200, 200, 200, 403, 403)),
    "users.list": Case("GET", "/api/v1/users", None, (200, 200, 403, 403, 403)),
    "users.create": Case("POST", "/api/v1/users", None, (201, 201, 403, 403, 403), _new_user),
    "users.get": Case("GET", "/api/v1/users/{user_id}", None, (200, 200, 403, 403, 403)),
    "users.patch": Case(
        "PATCH",
        "/api/v1/users/{user_id}",
        None,
        (200, 200, 403, 403, 403),
        {"full_name": "Renamed"},
    ),
    "users.delete": Case("DELETE", "/api/v1/users/{user_id}", None, (204, 204, 403, 403, 403)),
    "api_keys.create": Case(
        "POST",
        "/api/v1/api-keys",
        None,
        (201, 201, 403, 403, 403),
        {"name": "k", "scopes": ["read:items"]},
    ),
    "api_keys.list": Case("GET", "/api/v1/api-keys", None, (200, 200, 403, 403, 403)),
    "api_keys.delete": Case(
        "DELETE", "/api/v1/api-keys/{key_id}", None, (204, 204, 403, 403, 403)
    ),
    "items.create": Case(
        "POST",
        "/api/v1/items",
        "write:items",
        (201, 201, 403, 201, 403),
        {"sku": "NEW-1", "name": "New", "price": "1.00", "currency": "USD", "stock": 1},
    ),
    "items.list": Case("GET", "/api/v1/items", "read:items", (200, 200, 200, 200, 403)),
    "items.get": Case("GET", "/api/v1/items/{item_id}", "read:items", (200, 200, 200, 200, 403)),
    "items.patch": Case(
        "PATCH", "/api/v1/items/{item_id}", "write:items", (200, 200, 403, 200, 403), {"stock": 1}
    ),
    "items.delete": Case(
        "DELETE", "/api/v1/items/{item_id}", "write:items", (204, 204, 403, 204, 403)
    ),
    "orders.create": Case(
        "POST", "/api/v1/orders", "write:orders", (201, 201, 201, 201, 403), _order_lines
    ),
    "orders.list": Case("GET", "/api/v1/orders", "read:orders", (200, 200, 200, 200, 403)),
    # The world's order was placed by the owner: a member does not see it (404).
    "orders.get": Case(
        "GET", "/api/v1/orders/{order_id}", "read:orders", (200, 200, 404, 200, 403)
    ),
    "orders.cancel": Case(
        "POST", "/api/v1/orders/{order_id}/cancel", "write:orders", (200, 200, 404, 200, 403)
    ),
    "tenant.get": Case("GET", "/api/v1/tenant", None, (200, 200, 200, 403, 403)),
    "tenant.patch": Case(
        "PATCH", "/api/v1/tenant", None, (200, 403, 403, 403, 403), {"name": "Renamed"}
    ),
    "tenant.plan": Case(
        "PUT", "/api/v1/tenant/plan", None, (200, 403, 403, 403, 403), {"plan": "pro"}
    ),
    **_webhook_cases(),
    **_export_cases(),
    # Every caller who may see some event type (key- still holds read:items); a key that
    # may see none is 403 (tests/live/test_events_api.py).
    "events.list": Case("GET", "/api/v1/events", "read:orders", (200, 200, 200, 200, 200)),
    "ws.tickets": Case("POST", "/api/v1/ws/tickets", "read:orders", (201, 201, 201, 201, 201)),
}


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("route", list(MATRIX))
async def test_permission_matrix(client: httpx.AsyncClient, route: str, principal: str) -> None:
    case = MATRIX[route]
    world = await build_world(client)
    headers = await world.headers_for(principal, case.scope)
    body = case.body(world.ids) if callable(case.body) else case.body
    response = await client.request(
        case.method, case.path.format(**world.ids), headers=headers, json=body
    )
    expected = case.expected[PRINCIPALS.index(principal)]
    assert response.status_code == expected, response.text
    if expected == 403 and principal == "key-" and case.scope is not None:
        assert response.json()["code"] == "INSUFFICIENT_SCOPE"


PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


# Endless responses cannot be called in the matrix (the client would wait forever);
# who may open them is tested on a real socket in tests/live/test_sse.py.
STREAMS = {("GET", "/api/v1/events/stream")}


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_api_route_is_in_the_matrix_or_public() -> None:
    """A new route fails this test until someone decides who may call it."""
    app = create_app(Settings(_env_file=None))
    # Included routers are resolved lazily (FastAPI 0.16x): app.routes holds the
    # routers, iter_route_contexts the routes with their full paths.
    routes = {
        (method, _normalise(route.path or ""))
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith("/api/v1")
        for method in route.methods or ()
    }
    assert len(routes) > 20  # the walk found the API, not an empty set
    covered = {(case.method, _normalise(case.path)) for case in MATRIX.values()}
    assert routes - covered - PUBLIC - STREAMS == set()

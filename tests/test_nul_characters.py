"""A NUL character (U+0000) in any text input is refused at the edge, on both backends alike.

PostgreSQL refuses NUL in text, so each of these reached the database as a 500 there
(and was stored, or looked up, as is on SQLite). Body and form fields and query
parameters answer 422 naming the field; a path id answers 404 exactly as an unknown id
does (it cannot name a row). ``PLACES`` lists every text input of the API, and
``test_every_text_input_of_the_api_is_covered`` fails when one is added without it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.api import PASSWORD, unique_email
from tests.support.world import World, build_world

NUL = "\x00"


@dataclass(frozen=True)
class Place:
    method: str
    path: str  # with {item_id}-style placeholders filled from the world
    location: str  # body, form, query or path
    field: str  # "lines.0.item_id" for a nested body field


_ENDPOINT = "/api/v1/webhooks/{endpoint_id}"
_DELIVERY = _ENDPOINT + "/deliveries/{delivery_id}"
_EXPORT = "/api/v1/exports/{export_id}"
_WEBHOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"], "description": "sync"}


def _bodies(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body (or form) per operation; each case spoils one field."""
    item = world.ids["item_id"]
    return {
        ("POST", "/api/v1/auth/register"): {
            "tenant_name": "Acme",
            "email": unique_email(),
            "password": PASSWORD,
            "full_name": "Olive Owner",
        },
        ("POST", "/api/v1/auth/login"): {"username": world.owner.email, "password": PASSWORD},
        ("POST", "/api/v1/auth/refresh"): {"refresh_token": world.owner.refresh_token},
        ("POST", "/api/v1/auth/logout"): {"refresh_token": world.owner.refresh_token},
        ("POST", "/api/v1/users"): {
            "email": unique_email(),
            "password": PASSWORD,
            "full_name": "Mo Member",
        },
        ("PATCH", "/api/v1/users/{user_id}"): {"full_name": "Mo Member"},
        ("POST", "/api/v1/api-keys"): {"name": "sync", "scopes": ["read:items"]},
        ("POST", "/api/v1/items"): {
            "sku": f"NUL-{item[-8:]}",
            "name": "Mug",
            "description": "Stoneware",
            "price": "12.50",
            "currency": "USD",
            "stock": 5,
        },
        ("PATCH", "/api/v1/items/{item_id}"): {"name": "Mug"},
        ("POST", "/api/v1/orders"): {"lines": [{"item_id": item, "quantity": 1}]},
        ("PATCH", "/api/v1/tenant"): {"name": "Acme"},
        ("PUT", "/api/v1/tenant/plan"): {"plan": "pro"},
        ("POST", "/api/v1/webhooks"): _WEBHOOK,
        ("PATCH", _ENDPOINT): _WEBHOOK,
        ("POST", f"{_ENDPOINT}/recover"): {"since": "2026-01-01T00:00:00Z"},
        ("POST", "/api/v1/exports"): {"kind": "orders_csv"},
    }


_PATCHED_ITEM = {"sku": "MUG-2", "name": "Mug", "description": "Blue", "price": "9.99"}
_PATCHED_ITEM |= {"currency": "EUR"}

PLACES = [
    *(Place("POST", "/api/v1/auth/register", "body", f) for f in ("tenant_name", "email")),
    *(Place("POST", "/api/v1/auth/register", "body", f) for f in ("password", "full_name")),
    *(
        Place("POST", "/api/v1/auth/login", "form", f)
        for f in ("grant_type", "username", "password", "scope", "client_id", "client_secret")
    ),
    Place("POST", "/api/v1/auth/refresh", "body", "refresh_token"),
    Place("POST", "/api/v1/auth/logout", "body", "refresh_token"),
    *(
        Place("POST", "/api/v1/users", "body", f)
        for f in ("email", "password", "full_name", "role")
    ),
    *(Place("PATCH", "/api/v1/users/{user_id}", "body", f) for f in ("full_name", "role")),
    *(Place("POST", "/api/v1/api-keys", "body", f) for f in ("name", "scopes.0", "expires_at")),
    *(
        Place("POST", "/api/v1/items", "body", f)
        for f in ("sku", "name", "description", "price", "currency")
    ),
    *(Place("PATCH", "/api/v1/items/{item_id}", "body", f) for f in _PATCHED_ITEM),
    Place("POST", "/api/v1/orders", "body", "lines.0.item_id"),
    Place("GET", "/api/v1/items", "query", "q"),
    *(
        Place("GET", f"/api/v1/{kind}", "query", "cursor")
        for kind in ("items", "orders", "users", "api-keys")
    ),
    Place("GET", "/api/v1/events", "query", "type"),
    # Refused before the stream starts: a 422, not an event stream.
    Place("GET", "/api/v1/events/stream", "query", "type"),
    Place("GET", "/api/v1/items/{item_id}", "path", "item_id"),
    Place("PATCH", "/api/v1/items/{item_id}", "path", "item_id"),
    Place("DELETE", "/api/v1/items/{item_id}", "path", "item_id"),
    Place("GET", "/api/v1/orders/{order_id}", "path", "order_id"),
    Place("POST", "/api/v1/orders/{order_id}/cancel", "path", "order_id"),
    Place("GET", "/api/v1/users/{user_id}", "path", "user_id"),
    Place("PATCH", "/api/v1/users/{user_id}", "path", "user_id"),
    Place("DELETE", "/api/v1/users/{user_id}", "path", "user_id"),
    Place("DELETE", "/api/v1/api-keys/{key_id}", "path", "key_id"),
    Place("PATCH", "/api/v1/tenant", "body", "name"),
    Place("PUT", "/api/v1/tenant/plan", "body", "plan"),
    *(Place("POST", "/api/v1/webhooks", "body", f) for f in ("url", "event_types.0")),
    Place("POST", "/api/v1/webhooks", "body", "description"),
    *(Place("PATCH", _ENDPOINT, "body", f) for f in ("url", "event_types.0", "description")),
    Place("POST", f"{_ENDPOINT}/recover", "body", "since"),
    Place("GET", "/api/v1/webhooks", "query", "cursor"),
    *(Place("GET", f"{_ENDPOINT}/deliveries", "query", f) for f in ("cursor", "status")),
    Place("GET", f"{_ENDPOINT}/deliveries", "query", "event_type"),
    Place("GET", f"{_DELIVERY}/attempts", "query", "cursor"),
    *(
        Place(method, path, "path", "endpoint_id")
        for method, path in (
            ("GET", _ENDPOINT),
            ("PATCH", _ENDPOINT),
            ("DELETE", _ENDPOINT),
            ("POST", f"{_ENDPOINT}/rotate-secret"),
            ("POST", f"{_ENDPOINT}/test"),
            ("GET", f"{_ENDPOINT}/deliveries"),
            ("POST", f"{_ENDPOINT}/recover"),
            ("GET", f"{_DELIVERY}/attempts"),
            ("POST", f"{_DELIVERY}/redeliver"),
        )
    ),
    Place("GET", f"{_DELIVERY}/attempts", "path", "delivery_id"),
    Place("POST", f"{_DELIVERY}/redeliver", "path", "delivery_id"),
    *(
        Place("POST", "/api/v1/exports", "body", f)
        for f in ("kind", "status", "created_after", "created_before")
    ),
    Place("GET", "/api/v1/exports", "query", "cursor"),
    *(
        Place("GET", f"{_EXPORT}{tail}", "path", "export_id")
        for tail in ("", "/progress", "/download")
    ),
]

NOT_FOUND = {
    "item_id": "ITEM_NOT_FOUND",
    "order_id": "ORDER_NOT_FOUND",
    "user_id": "USER_NOT_FOUND",
    "key_id": "API_KEY_NOT_FOUND",
    "endpoint_id": "WEBHOOK_NOT_FOUND",
    "delivery_id": "WEBHOOK_DELIVERY_NOT_FOUND",
    "export_id": "EXPORT_NOT_FOUND",
}


def _with_nul(text: str) -> str:
    return f"{text[:1]}{NUL}{text[1:]}"


def _spoiled(body: dict[str, Any], field: str) -> dict[str, Any]:
    """``body`` with a NUL in ``field`` ("lines.0.item_id" reaches into the list)."""
    spoiled = copy.deepcopy(body)
    *parents, name = field.split(".")
    target: Any = spoiled
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if isinstance(target, list):
        target[int(name)] = _with_nul(target[int(name)])
    else:
        target[name] = _with_nul(str(target.get(name, _PATCHED_ITEM.get(name, "text"))))
    return spoiled


async def _send(client: httpx.AsyncClient, world: World, place: Place) -> httpx.Response:
    ids = world.ids
    public = place.path.startswith("/api/v1/auth/")
    headers = {} if public else world.owner.headers
    if place.location == "path":
        path = place.path.format(**(ids | {place.field: f"{ids[place.field]}%00"}))
        body = _bodies(world).get((place.method, place.path))
        return await client.request(place.method, path, headers=headers, json=body or None)
    path = place.path.format(**ids)
    if place.location == "query":
        return await client.get(path, headers=headers, params={place.field: _with_nul("ab")})
    body = _spoiled(_bodies(world)[(place.method, place.path)], place.field)
    if place.location == "form":
        return await client.post(path, data=body)
    return await client.request(place.method, path, headers=headers, json=body)


@pytest.mark.parametrize("place", PLACES, ids=lambda p: f"{p.method} {p.path} {p.field}")
async def test_a_nul_character_is_refused_before_the_database(
    client: httpx.AsyncClient, place: Place
) -> None:
    world = await build_world(client)
    response = await _send(client, world, place)
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    if place.location == "path":
        assert (response.status_code, problem["code"]) == (404, NOT_FOUND[place.field])
        return
    assert response.status_code == 422, response.text
    prefix = "query" if place.location == "query" else "body"
    assert f"{prefix}.{place.field}" in {error["field"] for error in problem["errors"]}


def _text_inputs(schema: dict[str, Any], components: dict[str, Any], at: str) -> set[str]:
    """Dotted names of the string fields of a request-body schema (arrays as ``.0``)."""
    if "$ref" in schema:
        return _text_inputs(components[schema["$ref"].rsplit("/", 1)[1]], components, at)
    variants = schema.get("anyOf", [schema])
    found: set[str] = set()
    for variant in variants:
        if "$ref" in variant:
            found |= _text_inputs(variant, components, at)
        if variant.get("type") == "string" and at:
            found.add(at)
        for name, child in variant.get("properties", {}).items():
            found |= _text_inputs(child, components, f"{at}.{name}" if at else name)
        if "items" in variant:
            found |= _text_inputs(variant["items"], components, f"{at}.0")
    return found


def _is_text(schema: dict[str, Any]) -> bool:
    return any(v.get("type") == "string" for v in schema.get("anyOf", [schema]))


async def test_every_text_input_of_the_api_is_covered(app: FastAPI) -> None:
    document = app.openapi()
    components = document["components"]["schemas"]
    inputs: set[tuple[str, str, str, str]] = set()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                # Header values are bytes the HTTP parser has already refused NUL in.
                if parameter["in"] != "header" and _is_text(parameter["schema"]):
                    inputs.add((method.upper(), path, parameter["in"], parameter["name"]))
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                location = "form" if "form" in media else "body"
                for field in _text_inputs(content["schema"], components, ""):
                    inputs.add((method.upper(), path, location, field))
    covered = {(p.method, p.path, p.location, p.field) for p in PLACES}
    assert inputs - covered == set()
    assert covered - inputs == set()

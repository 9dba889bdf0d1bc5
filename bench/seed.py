"""Seed Orderly through its public API (SPEC.md) and find the ids the scenarios use."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from bench.baseline_data import HOT_SKU, HOT_STOCK, ITEM_STOCK
from bench.procs import BenchError

API = "/api/v1"
SCOPES = ["read:items", "write:items", "read:orders", "write:orders"]
_RETRIES_429 = 30


@dataclass
class Principal:
    """The seeded owner: password login, a JWT (renewed when half-expired), an API key."""

    email: str
    password: str
    api_key: str
    access_token: str
    expires_in: float
    issued_at: float


@dataclass(frozen=True)
class Targets:
    item_id: str  # a regular item, for the 304 scenario
    etag: str
    hot_item_id: str  # the item orders are placed against
    hot_stock: int


def expect(resp: httpx.Response, status: int, what: str) -> httpx.Response:
    if resp.status_code != status:
        raise BenchError(f"{what}: expected {status}, got {resp.status_code}: {resp.text[:1000]}")
    return resp


def login(client: httpx.Client, email: str, password: str) -> tuple[str, float]:
    resp = client.post(f"{API}/auth/login", data={"username": email, "password": password})
    body = expect(resp, 200, "POST /auth/login").json()
    return str(body["access_token"]), float(body.get("expires_in") or 900)


def fresh_token(client: httpx.Client, principal: Principal) -> str:
    """The principal's access token, logging in again once half its lifetime is gone."""
    if time.monotonic() - principal.issued_at > principal.expires_in / 2:
        principal.access_token, principal.expires_in = login(
            client, principal.email, principal.password
        )
        principal.issued_at = time.monotonic()
    return principal.access_token


def register_and_login(client: httpx.Client) -> Principal:
    tag = secrets.token_hex(4)
    email, password = f"bench-{tag}@example.com", secrets.token_urlsafe(18)
    resp = client.post(
        f"{API}/auth/register",
        json={
            "tenant_name": f"Bench {tag}",
            "email": email,
            "password": password,
            "full_name": "Bench Runner",
        },
    )
    expect(resp, 201, "POST /auth/register")
    token, expires_in = login(client, email, password)
    resp = client.post(
        f"{API}/api-keys",
        json={"name": f"bench-{tag}", "scopes": SCOPES},
        headers={"Authorization": f"Bearer {token}"},
    )
    key = str(expect(resp, 201, "POST /api-keys").json()["key"])
    return Principal(email, password, key, token, expires_in, time.monotonic())


def item_bodies(count: int) -> Iterator[dict[str, object]]:
    """count - 1 regular items, then the hot one (created last: newest, listed first)."""
    for index in range(1, count):
        yield {
            "sku": f"BENCH-{index:04d}",
            "name": f"Bench item {index}",
            "description": f"Seeded benchmark item number {index}",
            "price": "12.50",
            "currency": "USD",
            "stock": ITEM_STOCK,
        }
    yield {
        "sku": HOT_SKU,
        "name": "Hot item",
        "description": "Every benchmark order takes one of these",
        "price": "12.50",
        "currency": "USD",
        "stock": HOT_STOCK,
    }


async def _post_item(client: httpx.AsyncClient, body: Mapping[str, object]) -> None:
    for _ in range(_RETRIES_429):
        resp = await client.post(f"{API}/items", json=body)
        if resp.status_code != 429:
            expect(resp, 201, f"POST /items {body['sku']}")
            return
        await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
    raise BenchError(f"POST /items {body['sku']}: still 429 after {_RETRIES_429} tries")


async def _create_items(base_url: str, api_key: str, count: int, workers: int) -> None:
    bodies = list(item_bodies(count))
    hot = bodies.pop()
    queue = iter(bodies)
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:

        async def worker() -> None:
            for body in queue:  # a shared iterator: each body is taken once
                await _post_item(client, body)

        await asyncio.gather(*(worker() for _ in range(workers)))
        await _post_item(client, hot)


def seed_orderly(base_url: str, items: int, workers: int) -> Principal:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        principal = register_and_login(client)
    asyncio.run(_create_items(base_url, principal.api_key, items, workers))
    return principal


def _scan_page(
    page: Mapping[str, list[dict[str, object]]], hot: str | None, regular: str | None
) -> tuple[str | None, str | None]:
    for item in page["items"]:
        if item["sku"] == HOT_SKU:
            hot = str(item["id"])
        elif regular is None:
            regular = str(item["id"])
    return hot, regular


def _find_items(client: httpx.Client, headers: Mapping[str, str]) -> tuple[str, str]:
    """(hot item id, a regular item id), walking the list with its cursor."""
    cursor: str | None = None
    hot: str | None = None
    regular: str | None = None
    for _ in range(100):
        params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        resp = client.get(f"{API}/items", params=params, headers=headers)
        page = expect(resp, 200, "GET /items").json()
        hot, regular = _scan_page(page, hot, regular)
        if hot is not None and regular is not None:
            return hot, regular
        cursor = page.get("next_cursor")
        if not cursor:
            break
    raise BenchError(f"GET /items: found no item with sku {HOT_SKU} and a regular one")


def read_stock(client: httpx.Client, headers: Mapping[str, str], item_id: str) -> int:
    resp = client.get(f"{API}/items/{item_id}", headers=headers)
    return int(expect(resp, 200, f"GET /items/{item_id}").json()["stock"])


def discover(base_url: str, headers: Mapping[str, str]) -> Targets:
    """Find the hot item and a regular one, and fetch the regular one's ETag."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        hot, regular = _find_items(client, headers)
        resp = expect(
            client.get(f"{API}/items/{regular}", headers=headers), 200, "GET /items/{id}"
        )
        etag = resp.headers.get("ETag")
        if not etag:
            raise BenchError(f"GET /items/{regular}: no ETag header")
        return Targets(regular, etag, hot, read_stock(client, headers, hot))

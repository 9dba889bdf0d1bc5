"""Cache hits are answered before dependency injection (core/cached_reads.py), but not
before authentication and authorization: a hit is refused exactly as a miss would be,
and answers exactly what a miss answers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from orderly.config import Settings
from orderly.core.cached_reads import check_cached_routes
from orderly.items.router import router as items_router
from orderly.main import create_app
from tests.support.api import add_api_key, add_item, add_user, key_headers, register

HEADERS_OF_A_READ = ("content-type", "etag", "cache-control", "vary")


def _same_answer(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code
    assert first.content == second.content
    for name in HEADERS_OF_A_READ:
        assert first.headers.get(name) == second.headers.get(name), name


async def test_a_hit_answers_exactly_what_the_miss_answered(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers)
    for path in ("/api/v1/items?limit=5", f"/api/v1/items/{item['id']}"):
        miss = await client.get(path, headers=owner.headers)
        hit = await client.get(path, headers=owner.headers)
        assert miss.status_code == 200
        _same_answer(miss, hit)
    old_etag = {"If-None-Match": hit.headers["etag"]}
    path = f"/api/v1/items/{item['id']}"
    renamed = await client.patch(path, headers=owner.headers, json={"name": "Renamed"})
    assert renamed.status_code == 200
    current = owner.headers | {"If-None-Match": renamed.headers["etag"]}
    not_modified_miss = await client.get(path, headers=current)  # the write emptied the cache
    not_modified_hit = await client.get(path, headers=current)
    assert not_modified_miss.status_code == 304
    _same_answer(not_modified_miss, not_modified_hit)
    stale = await client.get(path, headers=owner.headers | old_etag)
    assert stale.status_code == 200
    assert stale.json()["name"] == "Renamed"


@pytest.mark.parametrize("path", ["/api/v1/items?limit=5", "/api/v1/items/{id}"])
async def test_a_cached_read_is_still_refused_to_whoever_may_not_read(
    client: httpx.AsyncClient, path: str
) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers)
    path = path.replace("{id}", item["id"])
    member = await add_user(client, owner, "member")
    reader = await add_api_key(client, owner, ["read:items"])
    orders_only = key_headers((await add_api_key(client, owner, ["read:orders"]))["key"])
    for headers in (owner.headers, member.headers, key_headers(reader["key"])):
        assert (await client.get(path, headers=headers)).status_code == 200  # now cached

    refused = {
        "no credentials": (await client.get(path), 401),
        "a bad token": (await client.get(path, headers={"Authorization": "Bearer x.y.z"}), 401),
        "a key without read:items": (await client.get(path, headers=orders_only), 403),
    }
    revoked = await client.delete(f"/api/v1/api-keys/{reader['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    refused["a revoked key"] = (await client.get(path, headers=key_headers(reader["key"])), 401)
    deactivated = await client.delete(f"/api/v1/users/{member.user_id}", headers=owner.headers)
    assert deactivated.status_code == 204
    refused["a deactivated user's token"] = (await client.get(path, headers=member.headers), 401)
    for why, (answer, status) in refused.items():
        assert answer.status_code == status, why
        assert answer.headers["content-type"] == "application/problem+json", why
        assert "items" not in answer.json(), why


async def _rate_limit() -> None:
    """Stands for any dependency a router might gain later."""


def test_an_app_whose_cache_hits_would_skip_a_dependency_does_not_start() -> None:
    app = FastAPI()
    app.include_router(items_router, prefix="/api/v1", dependencies=[Depends(_rate_limit)])
    with pytest.raises(RuntimeError, match="would skip _rate_limit"):
        check_cached_routes(app)
    create_app(Settings(_env_file=None))  # the real app passes the check
    plain = FastAPI()
    plain.include_router(APIRouter(), dependencies=[Depends(_rate_limit)])
    check_cached_routes(plain)  # only cached routes are concerned

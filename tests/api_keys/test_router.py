"""API keys (SPEC "API keys")."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from orderly.api_keys.models import ApiKey
from orderly.api_keys.service import REVOKED_TOPIC
from orderly.core.cache import INVALIDATION_BUS
from orderly.core.database import DATABASE
from orderly.core.security import hash_token
from tests.support.api import add_api_key, key_headers, register
from tests.support.parts import part


async def test_a_key_is_shown_once_and_authenticates(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await add_api_key(client, owner, ["read:items", "read:items", "write:orders"])
    assert created["key"].startswith("sk_")
    assert len(created["key"]) >= 3 + 43
    assert created["prefix"] == created["key"][:11]
    assert created["scopes"] == ["read:items", "write:orders"]
    assert set(created) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "expires_at",
        "created_at",
        "last_used_at",
        "key",
    }
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert [k["id"] for k in listed["items"]] == [created["id"]]
    assert "key" not in listed["items"][0]
    assert created["key"] not in str(listed)


async def test_a_revoked_key_fails_at_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await add_api_key(client, owner, ["read:items"])
    probe = "/api/v1/users/me"  # any authenticated route: 403 means "authenticated"
    assert (await client.get(probe, headers=key_headers(created["key"]))).status_code == 403
    revoked = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    after = await client.get(probe, headers=key_headers(created["key"]))
    assert after.status_code == 401
    assert after.json()["code"] == "INVALID_API_KEY"
    again = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=owner.headers)
    assert again.status_code == 404


async def test_unknown_and_expired_keys_are_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await add_api_key(client, owner, ["read:items"])
    for raw in ("sk_unknown", "not-even-a-key", created["key"] + "x"):
        assert (await client.get("/api/v1/users/me", headers=key_headers(raw))).status_code == 401
    async with part(app, DATABASE).session(write=True) as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    expired = await client.get("/api/v1/users/me", headers=key_headers(created["key"]))
    assert expired.status_code == 401


async def test_expiry_must_be_in_the_future(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = await client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "old", "scopes": ["read:items"], "expires_at": past},
    )
    assert response.status_code == 422
    unknown_scope = await client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "x", "scopes": ["admin:everything"]},
    )
    assert unknown_scope.status_code == 422


def _in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "expires_at",
    [
        "9999-12-31T23:59:59-23:59",  # past year 9999 in UTC: was an OverflowError, a 500
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+23:59",
        "11 years",
        "2027-01-01T00:00:00",  # no timezone
    ],
)
async def test_an_expiry_out_of_range_is_422_and_creates_no_key(
    client: httpx.AsyncClient, expires_at: str
) -> None:
    owner = await register(client)
    value = _in_days(11 * 366) if expires_at == "11 years" else expires_at
    response = await client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "far", "scopes": ["read:items"], "expires_at": value},
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.expires_at"]
    listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert listed["items"] == []


async def test_a_key_expiring_almost_ten_years_ahead_is_stored_and_works(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3650)
    # Sent with an offset: stored and shown in UTC.
    sent = expires.astimezone(timezone(timedelta(hours=-23, minutes=-59))).isoformat()
    response = await client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "long", "scopes": ["read:items"], "expires_at": sent},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert datetime.fromisoformat(created["expires_at"]) == expires
    used = await client.get("/api/v1/items", headers=key_headers(created["key"]))
    assert used.status_code == 200


async def test_use_is_recorded_without_a_write_per_request(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await add_api_key(client, owner, ["read:items"])
    for _ in range(3):
        await client.get("/api/v1/users/me", headers=key_headers(created["key"]))
    deadline = time.monotonic() + 30  # recorded in the background: wait for it
    while True:
        listed = (await client.get("/api/v1/api-keys", headers=owner.headers)).json()
        if listed["items"][0]["last_used_at"] is not None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert listed["items"][0]["last_used_at"] is not None


async def test_members_and_keys_cannot_manage_keys(client: httpx.AsyncClient) -> None:
    from tests.support.api import add_user

    owner = await register(client)
    member = await add_user(client, owner, "member")
    created = await add_api_key(client, owner, ["read:items", "write:items"])
    for headers in (member.headers, key_headers(created["key"])):
        response = await client.post(
            "/api/v1/api-keys", headers=headers, json={"name": "x", "scopes": ["read:items"]}
        )
        assert response.status_code == 403


async def test_a_key_revoked_while_it_is_being_looked_up_is_not_cached(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The eviction lands between the lookup's read and its cache write. In scale-out
    mode this process also hears its own publication back from Redis later, which hides
    the race here (not in the other processes); embedded mode shows it plainly."""
    owner = await register(client)
    created = await add_api_key(client, owner, ["read:items"])
    database = part(app, DATABASE)
    engine = database.engine.sync_engine
    evictions: list[asyncio.Task[None]] = []

    def revoke_during_lookup(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # The eviction another process publishes once its revocation committed, arriving
        # after this lookup read the still-live row and before it could cache it.
        if "FROM api_keys" in statement and not evictions:
            digest = hash_token(created["key"])
            publish = part(app, INVALIDATION_BUS).publish(REVOKED_TOPIC, digest)
            evictions.append(asyncio.get_running_loop().create_task(publish))

    event.listen(engine, "after_cursor_execute", revoke_during_lookup)
    try:
        read_before = await client.get("/api/v1/users/me", headers=key_headers(created["key"]))
    finally:
        event.remove(engine, "after_cursor_execute", revoke_during_lookup)
    assert read_before.status_code == 403  # authenticated: it read the key before
    await asyncio.gather(*evictions)
    async with database.session(write=True) as session:
        await session.execute(
            update(ApiKey).where(ApiKey.id == created["id"]).values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
    after = await client.get("/api/v1/users/me", headers=key_headers(created["key"]))
    assert after.status_code == 401, after.text

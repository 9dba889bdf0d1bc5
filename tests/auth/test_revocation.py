"""A revoked credential stays revoked, whatever happens to its user later (issue 11,
item 2): every path that could bring a revoked access token, refresh token or API key
back to life, end to end on both backends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import jwt
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from orderly.auth.service import AuthService
from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.kvstore import KV
from orderly.core.kvstore.memory import DEFAULT_MAX_ENTRIES
from orderly.core.unit_of_work import unit_of_work
from orderly.main import create_app
from orderly.sessions.revocations import SESSION_REVOCATIONS, EndedSessions
from tests.conftest import make_settings
from tests.support.api import PASSWORD, Account, add_user, login, register, unique_email
from tests.support.parts import part
from tests.support.services import Backend, delete_redis_prefix
from tests.support.throwaway import running_redis


def _new_admin_body() -> dict[str, str]:
    return {"email": unique_email(), "password": PASSWORD, "full_name": "X", "role": "admin"}


async def _patch_user(
    client: httpx.AsyncClient, owner: Account, user: Account, body: dict[str, object]
) -> None:
    response = await client.patch(
        f"/api/v1/users/{user.user_id}", headers=owner.headers, json=body
    )
    assert response.status_code == 200, response.text


async def _assert_refused(client: httpx.AsyncClient, account: Account) -> None:
    listed = await client.get("/api/v1/users", headers=account.headers)
    assert listed.status_code == 401, listed.text
    created = await client.post("/api/v1/users", headers=account.headers, json=_new_admin_body())
    assert created.status_code == 401, created.text


async def test_a_demoted_admins_token_stays_revoked_after_deactivation_and_reactivation(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    assert (await client.get("/api/v1/users", headers=admin.headers)).status_code == 200
    await _patch_user(client, owner, admin, {"role": "member"})
    await _assert_refused(client, admin)
    await _patch_user(client, owner, admin, {"is_active": False})
    await _patch_user(client, owner, admin, {"is_active": True})
    await _assert_refused(client, admin)


async def test_a_deactivated_users_token_stays_revoked_after_reactivation(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    gone = await client.delete(f"/api/v1/users/{admin.user_id}", headers=owner.headers)
    assert gone.status_code == 204
    await _patch_user(client, owner, admin, {"is_active": True})
    await _assert_refused(client, admin)
    # The user may log in again: only the tokens from before are dead.
    fresh = (await login(client, admin.email)).json()["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200


async def test_a_token_revoked_by_a_demotion_stays_revoked_after_a_promotion_back(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    await _patch_user(client, owner, admin, {"role": "member"})
    await _patch_user(client, owner, admin, {"role": "admin"})
    await _assert_refused(client, admin)


async def test_a_refresh_token_stays_revoked_after_reactivation(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    await _patch_user(client, owner, admin, {"is_active": False})
    await _patch_user(client, owner, admin, {"is_active": True})
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token}
    )
    assert refreshed.status_code == 401, refreshed.text


@asynccontextmanager
async def _client_of(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


async def test_a_revoked_token_stays_revoked_when_the_store_loses_its_markers(
    client: httpx.AsyncClient, backend: Backend, settings: Settings
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    await _patch_user(client, owner, admin, {"role": "member"})
    await _assert_refused(client, admin)
    # A restart: embedded mode loses its in-process store, scale-out a Redis without
    # persistence comes back empty.
    if backend.redis_url is not None:
        delete_redis_prefix(backend.redis_prefix)
    async with _client_of(settings) as restarted:
        await _assert_refused(restarted, admin)


def _long_lived_token(account: Account, key: str, *, age: int, lifetime: int) -> str:
    issued = time.time() - age
    claims = {
        "sub": account.user_id,
        "tid": account.tenant_id,
        "role": "owner",
        "jti": "long",
        "gen": 0,
        "iat": issued,
        "exp": int(issued) + lifetime,
    }
    return jwt.encode(claims, key, algorithm="HS256")


async def test_a_token_lives_no_longer_than_the_configured_lifetime_whatever_its_exp_says(
    backend: Backend,
) -> None:
    """A token signed with a previous key by a deployment with a longer lifetime must
    not outlive the revocation markers, which last one configured lifetime."""
    old_key = "old-signing-key-that-is-definitely-long-enough"
    rotated = make_settings(backend, previous_secret_keys=old_key, access_token_ttl_seconds=60)
    async with _client_of(rotated) as client:
        owner = await register(client)
        young = _long_lived_token(owner, old_key, age=10, lifetime=3600)
        old = _long_lived_token(owner, old_key, age=120, lifetime=3600)
        ok = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {young}"})
        assert ok.status_code == 200, ok.text
        stale = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old}"})
        assert stale.status_code == 401, stale.text


async def test_a_login_racing_a_deactivation_leaves_no_token_that_reactivation_revives(
    app: FastAPI, client: httpx.AsyncClient, backend: Backend
) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite serializes writers: a login cannot interleave a deactivation")
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    container: Container = app.state.container
    # The login reads the user and writes its refresh token, not yet committed...
    async with unit_of_work(container) as uow:
        pair = await AuthService(uow, container).login(admin.email, PASSWORD)
        # ...while the deactivation commits, blind to that uncommitted row...
        gone = await client.delete(f"/api/v1/users/{admin.user_id}", headers=owner.headers)
        assert gone.status_code == 204
    # ...and the user comes back: neither token of the racing login may work.
    await _patch_user(client, owner, admin, {"is_active": True})
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token}
    )
    assert refreshed.status_code == 401, refreshed.text
    racing = Account(admin.tenant_id, admin.user_id, admin.email, pair.access_token, "")
    await _assert_refused(client, racing)


async def test_a_revocation_the_store_refused_is_healed_before_the_next_check(
    backend: Backend,
) -> None:
    if backend.redis_url is None:
        pytest.skip("embedded mode keeps revocations in memory, which cannot refuse a write")
    with running_redis() as redis_server:
        redis_url = redis_server.url
        async with _client_of(make_settings(backend, redis_url=redis_url)) as client:
            owner = await register(client)
            admin = await add_user(client, owner, "admin")
            broken = Redis.from_url(redis_url)
            # Writes now fail (NOREPLICAS) while reads work: the demotion commits, and
            # its revocation marker cannot be stored.
            await broken.config_set("min-replicas-to-write", 1)
            demoted = await client.patch(
                f"/api/v1/users/{admin.user_id}", headers=owner.headers, json={"role": "member"}
            )
            await broken.config_set("min-replicas-to-write", 0)
            await broken.aclose()
            assert demoted.status_code == 200, demoted.text
            await _assert_refused(client, admin)


async def test_revocations_written_out_of_order_keep_the_later_one(app: FastAPI) -> None:
    revocations = part(app, SESSION_REVOCATIONS)
    now = utcnow()
    await revocations.record(EndedSessions("usr_out_of_order", 2, now))
    await revocations.record(EndedSessions("usr_out_of_order", 1, now))
    assert await revocations.is_revoked("usr_out_of_order", 1)
    assert not await revocations.is_revoked("usr_out_of_order", 2)


async def test_a_flood_of_other_keys_cannot_evict_a_revocation(
    app: FastAPI, client: httpx.AsyncClient, backend: Backend
) -> None:
    if backend.redis_url is not None:
        pytest.skip("Redis must run with maxmemory-policy noeviction (README)")
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    await _patch_user(client, owner, admin, {"role": "member"})
    # What a client with many Idempotency-Keys fills: the shared in-process store.
    shared = part(app, KV)
    for n in range(DEFAULT_MAX_ENTRIES + 1):
        await shared.set(f"flood:{n}", b"x", ttl_ms=60_000)
    await _assert_refused(client, admin)

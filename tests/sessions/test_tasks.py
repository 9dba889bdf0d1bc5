"""The hourly purge of refresh tokens (SPEC "Jobs and the worker"): expired and revoked
ones go, and what a client is told does not change; a spent one stays until it expires,
since presenting it again is how a stolen token is caught."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from orderly.core.container import Container
from orderly.core.database import DATABASE, utcnow
from orderly.core.security import hash_token
from orderly.sessions import tasks
from orderly.sessions.models import RefreshToken
from orderly.sessions.repository import RefreshTokenRepository
from tests.support.api import login, register
from tests.support.parts import part


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _exists(app: FastAPI, raw: str) -> bool:
    async with part(app, DATABASE).session(write=False) as session:
        return await RefreshTokenRepository(session).find(raw) is not None


async def _purge(app: FastAPI) -> None:
    container: Container = app.state.container
    await tasks.purge_dead_refresh_tokens(container, {})


async def test_expired_and_revoked_tokens_are_purged_and_still_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    logged_out = (await login(client, owner.email)).json()["refresh_token"]
    assert (
        await client.post("/api/v1/auth/logout", json={"refresh_token": logged_out})
    ).is_success
    expired = (await login(client, owner.email)).json()["refresh_token"]
    async with part(app, DATABASE).session(write=True) as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_token(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    fresh = (await login(client, owner.email)).json()["refresh_token"]

    await _purge(app)

    assert not await _exists(app, logged_out)
    assert not await _exists(app, expired)
    assert await _exists(app, fresh)
    for dead in (logged_out, expired):
        assert (await _refresh(client, dead)).json()["code"] == "INVALID_REFRESH_TOKEN"
    assert (await _refresh(client, fresh)).status_code == 200


async def test_a_spent_token_is_kept_so_its_reuse_is_still_caught(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    rotated = await _refresh(client, owner.refresh_token)
    assert rotated.status_code == 200

    await _purge(app)

    assert await _exists(app, owner.refresh_token)
    reuse = await _refresh(client, owner.refresh_token)
    assert reuse.json()["code"] == "REFRESH_TOKEN_REUSED"
    # ...and that revoked the family, as before the purge existed.
    assert (await _refresh(client, rotated.json()["refresh_token"])).status_code == 401


async def test_the_purge_works_in_batches_until_nothing_is_left(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "PURGE_BATCH", 2)
    owner = await register(client)
    for _ in range(4):
        await client.post(
            "/api/v1/auth/logout",
            json={"refresh_token": (await login(client, owner.email)).json()["refresh_token"]},
        )

    await _purge(app)

    async with part(app, DATABASE).session(write=False) as session:
        left = await session.scalar(
            select(func.count())
            .select_from(RefreshToken)
            .where(RefreshToken.revoked_at.is_not(None))
        )
    assert left == 0

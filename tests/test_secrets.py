"""No response ever carries a password hash, a refresh-token hash, or a raw API key
after the response that created it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from orderly.api_keys.models import ApiKey
from orderly.core.database import DATABASE
from orderly.sessions.models import RefreshToken
from orderly.users.models import User
from tests.support.api import key_headers
from tests.support.parts import part
from tests.support.world import ALL_SCOPES, build_world


async def _stored_secrets(app: FastAPI) -> set[str]:
    async with part(app, DATABASE).session(write=False) as session:
        hashes = set((await session.execute(select(User.password_hash))).scalars())
        hashes |= set((await session.execute(select(RefreshToken.token_hash))).scalars())
        hashes |= set((await session.execute(select(ApiKey.key_hash))).scalars())
    return hashes


async def test_no_response_leaks_a_hash_or_a_raw_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    world = await build_world(client)
    raw_key = (
        await client.post(
            "/api/v1/api-keys",
            headers=world.owner.headers,
            json={"name": "leak", "scopes": ALL_SCOPES},
        )
    ).json()["key"]
    responses = [
        await client.get("/api/v1/users", headers=world.owner.headers),
        await client.get("/api/v1/users/me", headers=world.member.headers),
        await client.get(f"/api/v1/users/{world.member.user_id}", headers=world.owner.headers),
        await client.patch(
            f"/api/v1/users/{world.member.user_id}",
            headers=world.owner.headers,
            json={"full_name": "M"},
        ),
        await client.get("/api/v1/api-keys", headers=world.owner.headers),
        await client.get("/api/v1/users/me", headers=key_headers(raw_key)),
        await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": world.owner.refresh_token}
        ),
    ]
    secrets = await _stored_secrets(app)
    assert secrets
    for response in responses:
        text = response.text
        assert raw_key not in text
        assert "$argon2" not in text
        assert "password" not in text
        for secret in secrets:
            assert secret not in text

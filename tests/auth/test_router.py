"""Registration, login, tokens (SPEC "Authentication and tenancy")."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import jwt
import pytest
from fastapi import FastAPI
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import func, select

from orderly.core.database import DATABASE
from orderly.main import create_app
from orderly.tenants.models import Tenant
from tests.conftest import TEST_SECRET, make_settings
from tests.support.api import PASSWORD, Account, login, register, unique_email
from tests.support.parts import part
from tests.support.services import Backend


def _assert_401(response: httpx.Response, code: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.json()["code"] == code


async def test_register_creates_a_free_tenant_and_its_owner(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "Acme Ltd",
            "email": email.upper(),
            "password": PASSWORD,
            "full_name": "Ada",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tenant"]["plan"] == "free"
    assert body["tenant"]["slug"] == "acme-ltd"
    assert body["tenant"]["id"].startswith("ten_")
    assert body["user"]["role"] == "owner"
    assert body["user"]["email"] == email
    assert body["user"]["id"].startswith("usr_")
    assert "password" not in response.text


async def test_a_duplicate_email_is_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "Other",
            "email": owner.email.upper(),
            "password": PASSWORD,
            "full_name": "Eve",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "EMAIL_TAKEN"


async def test_a_short_password_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"tenant_name": "T", "email": unique_email(), "password": "short", "full_name": "S"},
    )
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["body.password"]


async def test_an_overlong_email_is_refused_by_its_length_before_it_is_parsed(
    client: httpx.AsyncClient,
) -> None:
    # EmailStr's "Name <address>" regex is quadratic in a run of spaces: never reach it.
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "Acme",
            "email": " " * 2000 + "owner@example.com",
            "password": PASSWORD,
            "full_name": "Olive Owner",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "body.email",
            "message": "String should have at most 320 characters",
            "code": "string_too_long",
        }
    ]


async def test_login_returns_a_bearer_token_pair(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await login(client, owner.email)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"].startswith("rt_")
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert {"sub", "tid", "role", "jti", "iat", "exp"} <= set(claims)
    assert claims["tid"] == owner.tenant_id
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["id"] == owner.user_id


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    wrong_password = await login(client, owner.email, "not-the-password")
    unknown_email = await login(client, unique_email("ghost"), PASSWORD)
    for response in (wrong_password, unknown_email):
        _assert_401(response, "INVALID_CREDENTIALS")
    first, second = wrong_password.json(), unknown_email.json()
    first.pop("request_id")
    second.pop("request_id")
    assert first == second
    assert wrong_password.headers.keys() == unknown_email.headers.keys()


def _forge(claims: dict[str, object], key: str = TEST_SECRET, alg: str = "HS256") -> str:
    with warnings.catch_warnings():
        # Forging with a short key for HS512 on purpose: the point is the wrong algorithm.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=alg)


async def _tokens_to_reject(owner: Account) -> dict[str, str]:
    now = int(time.time())
    good = {
        "sub": owner.user_id,
        "tid": owner.tenant_id,
        "role": "owner",
        "gen": 0,
        "jti": "x",
        "iat": now,
        "exp": now + 600,
    }
    header, payload, signature = owner.access_token.split(".")
    # PyJWT types the key without None once cryptography is installed; "none" takes it.
    unsigned = jwt.encode(good, None, algorithm="none")  # type: ignore[arg-type]
    return {
        "malformed": "not-a-jwt",
        "tampered": f"{header}.{payload[:-2]}xx.{signature}",
        "expired": _forge(good | {"iat": now - 1000, "exp": now - 10}),
        "alg none": unsigned,
        "other key": _forge(good, key="another-secret-that-is-long-enough-000000"),
        "other algorithm": _forge(good, alg="HS512"),
        "missing claims": _forge({"sub": owner.user_id, "exp": now + 600}),
        "no generation (issued before generations)": _forge(
            {k: v for k, v in good.items() if k != "gen"}
        ),
        "generation not an integer": _forge(good | {"gen": "0"}),
    }


async def test_bad_tokens_are_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for name, token in (await _tokens_to_reject(owner)).items():
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
    _assert_401(await client.get("/api/v1/users/me"), "NOT_AUTHENTICATED")
    _assert_401(await client.get("/api/v1/users/me", headers={"Authorization": "Basic abc"}))


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != owner.refresh_token
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    _assert_401(reuse, "REFRESH_TOKEN_REUSED")
    # The thief's reuse also kills the legitimate, newer token of that family.
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated})
    _assert_401(after, "INVALID_REFRESH_TOKEN")


async def test_a_new_login_is_a_separate_family(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    other_session = (await login(client, owner.email)).json()["refresh_token"]
    await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    still_fine = await client.post("/api/v1/auth/refresh", json={"refresh_token": other_session})
    assert still_fine.status_code == 200


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": owner.refresh_token}
    )
    assert response.status_code == 204
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    _assert_401(again)


async def test_unknown_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_made_up"})
    _assert_401(response, "INVALID_REFRESH_TOKEN")


@pytest.mark.parametrize("wrapper", ["current", "previous"])
async def test_keys_rotate_without_logging_anyone_out(backend: Backend, wrapper: str) -> None:
    old_key = "old-signing-key-that-is-definitely-long-enough"
    new_key = "new-signing-key-that-is-definitely-long-enough"
    before = create_app(make_settings(backend, secret_key=old_key))
    async with (
        before.router.lifespan_context(before),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=before), base_url="http://t"
        ) as client,
    ):
        owner = await register(client)
    previous = old_key if wrapper == "previous" else ""
    after = create_app(make_settings(backend, secret_key=new_key, previous_secret_keys=previous))
    async with (
        after.router.lifespan_context(after),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=after), base_url="http://t") as client,
    ):
        response = await client.get("/api/v1/users/me", headers=owner.headers)
        assert response.status_code == (200 if wrapper == "previous" else 401)
        fresh = (await login(client, owner.email)).json()["access_token"]
        assert jwt.decode(fresh, new_key, algorithms=["HS256"])["sub"] == owner.user_id


@asynccontextmanager
async def busy_hash_client(backend: Backend) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose password check admits one hash at a time and refuses the rest.

    Skipped on SQLite: sign-ups and logins are writes there, so they take the one write
    lock before they hash and reach the hash queue one at a time.
    """
    if backend.name == "sqlite":
        pytest.skip("SQLite serializes password checks on its write lock, ahead of the queue")
    # Hashes that take a while (~20-50 ms, not the suite's ~1 ms): the storm's other
    # requests must reach the queue while the admitted one still hashes, on a busy
    # machine too, where a 1 ms hash could finish before the next request gets there.
    settings = make_settings(
        backend,
        password_hash_max_wait_seconds=1e-9,
        password_hash_time_cost=2,
        password_hash_memory_kib=19456,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield app, client


async def test_a_login_that_would_wait_too_long_for_its_hash_is_a_fast_503(
    backend: Backend,
) -> None:
    """A login storm is refused with Retry-After, not queued for seconds (SPEC: 503 is
    problem+json); the logins that were admitted still succeed."""
    async with busy_hash_client(backend) as (_, client):
        owner = await register(client)
        storm = await asyncio.gather(*(login(client, owner.email) for _ in range(8)))
        statuses = sorted(response.status_code for response in storm)
        assert set(statuses) == {200, 503}, statuses
        for response in storm:
            if response.status_code == 503:
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["code"] == "PASSWORD_CHECK_BUSY"
                assert int(response.headers["retry-after"]) >= 1
        assert (await login(client, owner.email)).status_code == 200


async def test_a_register_refused_for_a_busy_password_check_creates_nothing(
    backend: Backend,
) -> None:
    """Register hashes after it has inserted the tenant: a 503 there rolls it back."""
    async with busy_hash_client(backend) as (app, client):
        emails = [unique_email() for _ in range(6)]
        tenant_name = f"Storm {uuid.uuid4().hex}"
        storm = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/register",
                    json={
                        "tenant_name": tenant_name,
                        "email": email,
                        "password": PASSWORD,
                        "full_name": "Stormy",
                    },
                )
                for email in emails
            )
        )
        statuses = [response.status_code for response in storm]
        assert set(statuses) == {201, 503}, statuses
        for email, response in zip(emails, storm, strict=True):
            if response.status_code == 503:
                assert response.json()["code"] == "PASSWORD_CHECK_BUSY"
                # Nothing was kept: the email is free and logging in with it fails.
                assert (await login(client, email)).status_code == 401
        # ... and the tenants inserted before the refused hashes were rolled back.
        database = part(app, DATABASE)
        async with database.session(write=False) as session:
            stmt = select(func.count()).select_from(Tenant).where(Tenant.name == tenant_name)
            assert (await session.execute(stmt)).scalar_one() == statuses.count(201)


async def test_concurrent_sign_ups_with_one_tenant_name_all_get_a_tenant(
    client: httpx.AsyncClient,
) -> None:
    """The slug is checked, then inserted: a concurrent sign-up can take it in between.
    The loser picks another slug instead of failing (this was a 500)."""
    emails = [unique_email() for _ in range(6)]
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/register",
                json={"tenant_name": "Twin", "email": e, "password": PASSWORD, "full_name": "T"},
            )
            for e in emails
        )
    )
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    slugs = {r.json()["tenant"]["slug"] for r in responses}
    assert len(slugs) == 6
    assert "twin" in slugs

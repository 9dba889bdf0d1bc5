"""Rate limits through the HTTP API, on both backends (in-process counters embedded,
Redis in scale-out): per principal by plan, per IP and account on the auth routes, the
draft-10 headers, the 429. The limiter's clock is pinned inside one minute so that a
window cannot turn in the middle of a test."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.database import DATABASE
from orderly.core.ratelimit import RATE_LIMITER
from orderly.main import create_app
from tests.conftest import make_settings
from tests.support.api import PASSWORD, Account, add_api_key, login, register, unique_email
from tests.support.database import empty_all_tables
from tests.support.parts import part
from tests.support.services import Backend

PER_MINUTE = 5


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(
        backend,
        rate_limit_enabled=True,
        plan_limits={"free": {"requests_per_minute": PER_MINUTE}},
    )


@pytest.fixture
def pinned(app: FastAPI) -> float:
    """10 s into a minute of its own (the reset is 50 s away): in Redis, counters of
    one session outlive a test, and the per-IP ones would add up across tests."""
    now = float((MINUTE_ZERO + secrets.randbelow(10**9)) * 60 + 10)
    part(app, RATE_LIMITER).clock = lambda: now
    return now


MINUTE_ZERO = 29_000_000  # a minute in 2025; the pinned ones come after it


@pytest.fixture
async def owner(client: httpx.AsyncClient, pinned: float) -> Account:
    return await register(client)


async def test_the_principal_gets_its_plans_quota_then_429(
    client: httpx.AsyncClient, owner: Account
) -> None:
    answers = [
        await client.get("/api/v1/users/me", headers=owner.headers) for _ in range(PER_MINUTE)
    ]
    refused = await client.get("/api/v1/users/me", headers=owner.headers)

    assert [a.status_code for a in answers] == [200] * PER_MINUTE
    assert [a.headers["ratelimit"] for a in answers] == [
        f'"principal";r={left};t=50' for left in range(PER_MINUTE - 1, -1, -1)
    ]
    assert {a.headers["ratelimit-policy"] for a in answers} == {f'"principal";q={PER_MINUTE};w=60'}
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert refused.json()["status"] == 429
    assert refused.headers["retry-after"] == "50"
    assert refused.headers["ratelimit"] == '"principal";r=0;t=50'


async def test_cached_reads_are_counted_and_carry_the_headers(
    client: httpx.AsyncClient, owner: Account
) -> None:
    """The second list is a cache hit, answered before the route's dependencies."""
    first = await client.get("/api/v1/items", headers=owner.headers)
    hit = await client.get("/api/v1/items", headers=owner.headers)

    assert (first.status_code, hit.status_code) == (200, 200)
    assert first.headers["ratelimit"] == f'"principal";r={PER_MINUTE - 1};t=50'
    assert hit.headers["ratelimit"] == f'"principal";r={PER_MINUTE - 2};t=50'


async def test_each_api_key_and_user_has_its_own_quota(
    client: httpx.AsyncClient, owner: Account
) -> None:
    key = await add_api_key(client, owner, ["read:items"])  # the owner's first request
    as_key = {"X-API-Key": key["key"]}

    by_key = [await client.get("/api/v1/items", headers=as_key) for _ in range(PER_MINUTE)]
    key_refused = await client.get("/api/v1/items", headers=as_key)
    by_owner = await client.get("/api/v1/users/me", headers=owner.headers)

    assert [a.status_code for a in by_key] == [200] * PER_MINUTE
    assert key_refused.status_code == 429
    assert by_owner.status_code == 200
    assert by_owner.headers["ratelimit"] == f'"principal";r={PER_MINUTE - 2};t=50'


async def test_the_next_window_starts_afresh(
    app: FastAPI, client: httpx.AsyncClient, owner: Account, pinned: float
) -> None:
    for _ in range(PER_MINUTE):
        await client.get("/api/v1/users/me", headers=owner.headers)
    assert (await client.get("/api/v1/users/me", headers=owner.headers)).status_code == 429

    part(app, RATE_LIMITER).clock = lambda: pinned + 60

    again = await client.get("/api/v1/users/me", headers=owner.headers)
    assert again.status_code == 200
    assert again.headers["ratelimit"] == f'"principal";r={PER_MINUTE - 1};t=50'


async def test_unauthenticated_requests_are_not_counted_against_anyone(
    client: httpx.AsyncClient, owner: Account
) -> None:
    for _ in range(PER_MINUTE + 2):
        assert (await client.get("/api/v1/users/me")).status_code == 401

    assert (await client.get("/api/v1/users/me", headers=owner.headers)).status_code == 200


async def test_the_eleventh_login_for_one_email_from_one_ip_is_429_while_others_log_in(
    client: httpx.AsyncClient, owner: Account
) -> None:
    other = await register(client)  # the owner's and this one's logins: 2 of 30 per IP
    victim = unique_email("victim")
    attempts = [await login(client, victim, "wrong-password") for _ in range(10)]

    eleventh = await login(client, victim, "wrong-password")
    meanwhile = await login(client, other.email, PASSWORD)

    assert [a.status_code for a in attempts] == [401] * 10
    assert attempts[0].headers["ratelimit-policy"] == (
        '"login-account";q=10;w=60, "login-ip";q=30;w=60'
    )
    assert attempts[-1].headers["ratelimit"] == '"login-account";r=0;t=50, "login-ip";r=18;t=50'
    assert eleventh.status_code == 429
    assert eleventh.json()["code"] == "RATE_LIMITED"
    assert eleventh.headers["retry-after"] == "50"
    assert meanwhile.status_code == 200
    assert meanwhile.headers["cache-control"] == "no-store"


async def test_thirty_logins_from_one_ip_are_the_most_whatever_the_emails(
    client: httpx.AsyncClient, owner: Account
) -> None:
    # register() logged in once from this address.
    answers = [await login(client, unique_email("spray"), "wrong-password") for _ in range(29)]
    thirtyfirst = await login(client, owner.email, PASSWORD)

    assert [a.status_code for a in answers] == [401] * 29
    assert thirtyfirst.status_code == 429


async def test_the_sixth_registration_from_one_ip_in_a_minute_is_429(
    client: httpx.AsyncClient, pinned: float
) -> None:
    for _ in range(5):
        await register(client)

    sixth = await client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "Six",
            "email": unique_email("six"),
            "password": PASSWORD,
            "full_name": "S",
        },
    )

    assert sixth.status_code == 429
    assert re.fullmatch(r"[1-9][0-9]*", sixth.headers["retry-after"])


async def test_with_limits_off_nothing_is_counted_nor_announced(backend: Backend) -> None:
    settings = make_settings(
        backend, rate_limit_enabled=False, plan_limits={"free": {"requests_per_minute": 1}}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
            owner = await register(ac)
            answers = [await ac.get("/api/v1/users/me", headers=owner.headers) for _ in range(3)]
        await empty_all_tables(part(application, DATABASE).engine)

    assert [a.status_code for a in answers] == [200] * 3
    assert all("ratelimit" not in a.headers for a in answers)


@pytest.mark.parametrize(
    ("trusted", "limited_from_elsewhere"),
    [(["127.0.0.0/8"], False), ([], True)],
    ids=["behind-a-trusted-proxy", "no-trusted-proxy"],
)
async def test_the_login_limit_is_per_forwarded_ip_only_behind_a_trusted_proxy(
    backend: Backend, trusted: list[str], limited_from_elsewhere: bool
) -> None:
    settings = make_settings(backend, rate_limit_enabled=True, trusted_proxies=trusted)
    application = create_app(settings)
    now = float((MINUTE_ZERO + secrets.randbelow(10**9)) * 60 + 10)
    victim = unique_email("victim")
    async with application.router.lifespan_context(application):
        part(application, RATE_LIMITER).clock = lambda: now
        transport = httpx.ASGITransport(app=application)  # the peer: 127.0.0.1
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:

            async def attempt(forwarded_for: str) -> httpx.Response:
                return await ac.post(
                    "/api/v1/auth/login",
                    data={"username": victim, "password": "wrong-password"},
                    headers={"X-Forwarded-For": forwarded_for},
                )

            first = [await attempt("198.51.100.1") for _ in range(11)]
            elsewhere = await attempt("198.51.100.2")

    assert [a.status_code for a in first] == [401] * 10 + [429]
    assert elsewhere.status_code == (429 if limited_from_elsewhere else 401)

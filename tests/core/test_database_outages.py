"""Any failure to reach the database is 503 DATABASE_UNAVAILABLE with Retry-After, and
every query is bounded in time (SPEC "Errors"; issue 11, items 6 and 7).

PostgreSQL cases run against a throwaway cluster the test stops, restarts or freezes;
the app is never restarted in between.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from orderly.config import Settings
from orderly.main import create_app
from tests.conftest import make_settings
from tests.support.api import Account, add_item, register
from tests.support.parts import Work
from tests.support.services import Backend
from tests.support.throwaway import ThrowawayPostgres

STATEMENT_TIMEOUT = 0.5
CONNECT_TIMEOUT = 1.0
# What a bounded request may take beyond its timeouts on a loaded 2-core machine.
SLACK = 1.5
# A login reads the database first: a request that needs it and no account.
LOGIN_FORM = {"username": "nobody@example.com", "password": "not-a-password"}


def _settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "db_statement_timeout_seconds": STATEMENT_TIMEOUT,
        "db_connect_timeout_seconds": CONNECT_TIMEOUT,
        "health_timeout_seconds": 1.0,
    }
    return make_settings(Backend("postgres", database_url, None, "unused:"), **values | overrides)


def _test_routes() -> APIRouter:
    router = APIRouter(prefix="/_db")

    @router.get("/sleep")
    async def sleep(work: Work, seconds: float) -> dict[str, str]:
        await work.session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return {"slept": "yes"}

    @router.get("/setting")
    async def setting(work: Work, name: str) -> dict[str, str]:
        statement = text("SELECT current_setting(:n)")
        value = (await work.session.execute(statement, {"n": name})).scalar()
        return {"value": str(value)}

    return router


@pytest.fixture
async def pg_app(throwaway_postgres: ThrowawayPostgres) -> AsyncIterator[FastAPI]:
    app = create_app(_settings(throwaway_postgres.url))
    app.include_router(_test_routes())
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def pg_client(pg_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=pg_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def owner(pg_client: httpx.AsyncClient) -> Account:
    return await register(pg_client)


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "DATABASE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1


async def test_while_postgres_is_stopped_every_request_is_503_and_after_its_restart_200(
    pg_client: httpx.AsyncClient, owner: Account, throwaway_postgres: ThrowawayPostgres
) -> None:
    """The first request meets a pooled connection the shutdown closed, the next ones
    find the port refusing connections (ConnectionRefusedError)."""
    throwaway_postgres.stop()
    answers = [await pg_client.get("/api/v1/orders", headers=owner.headers) for _ in range(3)]
    for answer in answers:
        assert_database_unavailable(answer)
    throwaway_postgres.start()
    back = await pg_client.get("/api/v1/orders", headers=owner.headers)
    assert back.status_code == 200, back.text


async def test_a_database_shutting_down_is_503_for_a_new_connection(
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    """A smart shutdown waits for open sessions and refuses new ones with SQLSTATE 57P03
    (asyncpg CannotConnectNowError; "starting up" is the same state on the way in)."""
    dsn = f"postgresql://postgres@127.0.0.1:{throwaway_postgres.port}/postgres"
    held = await asyncpg.connect(dsn)
    try:
        throwaway_postgres.begin_shutdown()
        await _until_new_connections_are_refused(dsn)
        app = create_app(_settings(throwaway_postgres.url))  # no pooled connection yet
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answer = await client.post("/api/v1/auth/login", data=LOGIN_FORM)
    finally:
        await held.close()
    assert_database_unavailable(answer)


async def _until_new_connections_are_refused(dsn: str) -> None:
    """The postmaster turns to "shutting down" a moment after pg_ctl returns."""
    for _ in range(100):
        try:
            await (await asyncpg.connect(dsn)).close()
        except asyncpg.CannotConnectNowError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server kept accepting connections")


async def test_a_connection_lost_mid_query_is_503(
    pg_client: httpx.AsyncClient, throwaway_postgres: ThrowawayPostgres
) -> None:
    """A fast shutdown ends the session mid-query (SQLSTATE 57P01, admin shutdown)."""
    request = asyncio.create_task(pg_client.get("/_db/sleep", params={"seconds": 0.4}))
    await asyncio.sleep(0.2)
    throwaway_postgres.stop()
    assert_database_unavailable(await request)


async def test_a_frozen_database_answers_503_within_the_statement_timeout_then_recovers(
    pg_client: httpx.AsyncClient, owner: Account, throwaway_postgres: ThrowawayPostgres
) -> None:
    """Pooled connections stay open to a host that no longer answers: the client-side
    timeout notices it (the server cannot cancel anything while it is frozen)."""
    assert (await pg_client.get("/api/v1/orders", headers=owner.headers)).status_code == 200
    with throwaway_postgres.frozen():
        answer, waited = await _timed(pg_client.get("/api/v1/orders", headers=owner.headers))
    assert_database_unavailable(answer)
    assert waited < STATEMENT_TIMEOUT + 1.0 + SLACK
    back = await pg_client.get("/api/v1/orders", headers=owner.headers)
    assert back.status_code == 200, back.text


async def test_a_new_connection_to_a_frozen_database_is_503_within_the_connect_timeout(
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    app = create_app(_settings(throwaway_postgres.url))  # no pooled connection yet
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            with throwaway_postgres.frozen():
                answer, waited = await _timed(client.post("/api/v1/auth/login", data=LOGIN_FORM))
    assert_database_unavailable(answer)
    assert waited < CONNECT_TIMEOUT + SLACK


async def test_ready_is_bounded_while_the_database_is_frozen(
    pg_client: httpx.AsyncClient, throwaway_postgres: ThrowawayPostgres
) -> None:
    assert (await pg_client.get("/health/ready")).status_code == 200
    with throwaway_postgres.frozen():
        answer, waited = await _timed(pg_client.get("/health/ready"))
    assert answer.status_code == 503
    assert "database" in answer.json()["detail"]
    assert waited < 1.0 + SLACK
    assert (await pg_client.get("/health/ready")).status_code == 200


async def test_a_statement_waiting_past_the_statement_timeout_is_503(
    pg_client: httpx.AsyncClient, owner: Account, throwaway_postgres: ThrowawayPostgres
) -> None:
    """The server cancels it (statement_timeout; here a wait for a row lock another
    session holds), and the connection stays usable."""
    item = await add_item(pg_client, owner.headers)
    holder = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{throwaway_postgres.port}/")
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item["id"])
            answer, waited = await _timed(
                pg_client.patch(
                    f"/api/v1/items/{item['id']}", headers=owner.headers, json={"name": "New"}
                )
            )
    finally:
        await holder.close()
    assert_database_unavailable(answer)
    assert waited < STATEMENT_TIMEOUT + SLACK
    again = await pg_client.patch(
        f"/api/v1/items/{item['id']}", headers=owner.headers, json={"name": "New"}
    )
    assert again.status_code == 200, again.text


@pytest.mark.parametrize(
    ("name", "value"),
    [("statement_timeout", "500ms"), ("idle_in_transaction_session_timeout", "30s")],
)
async def test_every_connection_carries_the_server_side_timeouts(
    pg_client: httpx.AsyncClient, name: str, value: str
) -> None:
    answer = await pg_client.get("/_db/setting", params={"name": name})
    assert answer.json() == {"value": value}


async def test_an_sqlite_file_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'orderly.db'}"
    app = create_app(make_settings(Backend("sqlite", url, None, "unused:")))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.post("/api/v1/auth/login", data=LOGIN_FORM)
    assert_database_unavailable(answer)


async def _timed(request: object) -> tuple[httpx.Response, float]:
    """The response and how long it took; a request that hangs fails the test after
    30 s instead of hanging it."""
    started = time.perf_counter()
    response: httpx.Response = await asyncio.wait_for(request, timeout=30)  # type: ignore[arg-type]
    return response, time.perf_counter() - started

"""One transaction per request, committed before the response is sent."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from orderly.core.database import DATABASE, ReadOnlySessionError, new_id
from orderly.core.failures import FAILURES
from orderly.core.identity import Plan
from orderly.main import create_app
from orderly.tenants.models import Tenant
from tests.conftest import make_settings
from tests.support.parts import Work, part
from tests.support.services import Backend


def _router() -> APIRouter:
    router = APIRouter(prefix="/_tx")

    @router.post("/write", status_code=201)
    async def write(work: Work) -> dict[str, str]:
        await work.session.execute(text("CREATE TABLE IF NOT EXISTS _probe (v INTEGER)"))
        await work.session.execute(text("INSERT INTO _probe (v) VALUES (1)"))
        return {"status": "written"}

    return router


async def test_a_failing_commit_is_an_error_response_not_a_2xx(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.include_router(_router())

    async def broken_commit(self: AsyncSession) -> None:
        raise ConnectionResetError("database went away during COMMIT")

    monkeypatch.setattr(AsyncSession, "commit", broken_commit)
    response = await client.post("/_tx/write")
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "COMMIT" not in response.text


async def test_an_after_commit_action_that_fails_does_not_fail_the_committed_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The response says what the database says: the row is there, so 201. The failure
    is counted (and logged) instead."""
    router = APIRouter(prefix="/_tx")

    async def unreachable() -> None:
        raise ConnectionError("the other party is down")

    @router.post("/with-follow-up", status_code=201)
    async def write(work: Work) -> dict[str, str]:
        await work.session.execute(text("CREATE TABLE IF NOT EXISTS _follow (v INTEGER)"))
        await work.session.execute(text("INSERT INTO _follow (v) VALUES (1)"))
        work.after_commit(unreachable, name="unreachable")
        return {"status": "written"}

    app.include_router(router)
    response = await client.post("/_tx/with-follow-up")
    assert response.status_code == 201, response.text
    async with part(app, DATABASE).session(write=False) as session:
        assert (await session.execute(text("SELECT count(*) FROM _follow"))).scalar_one() == 1
        await session.commit()
    assert part(app, FAILURES).counts["after_commit"] == 1


POOL_TIMEOUT_SECONDS = 0.3


async def test_an_exhausted_pool_fails_fast_with_503(backend: Backend) -> None:
    """A request that cannot get a connection within the pool timeout gets a 503 with
    Retry-After instead of hanging until the client gives up.

    The one connection is held until the starved request has its answer, so the
    verdict does not depend on how fast the machine is: without the timeout the
    starved request would wait forever (the 30 s guard below), never get a 200."""
    app = create_app(
        make_settings(
            backend, db_pool_size=1, db_max_overflow=0, db_pool_timeout=POOL_TIMEOUT_SECONDS
        )
    )
    router = APIRouter()
    holding, release = asyncio.Event(), asyncio.Event()

    @router.get("/_hold")
    async def hold(work: Work) -> dict[str, str]:
        await work.session.execute(text("SELECT 1"))
        holding.set()
        await release.wait()
        return {"held": "yes"}

    @router.get("/_query")
    async def query(work: Work) -> dict[str, str]:
        await work.session.execute(text("SELECT 1"))
        return {"queried": "yes"}

    app.include_router(router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            holder = asyncio.create_task(client.get("/_hold"))
            await asyncio.wait_for(holding.wait(), timeout=30)
            started = time.perf_counter()
            starved = await asyncio.wait_for(client.get("/_query"), timeout=30)
            waited = time.perf_counter() - started
            release.set()
            assert (await holder).status_code == 200
    assert starved.status_code == 503
    assert starved.json()["code"] == "DATABASE_UNAVAILABLE"
    assert starved.headers["retry-after"] == "1"
    assert waited >= 0.9 * POOL_TIMEOUT_SECONDS  # it did wait for a connection first


async def test_a_connection_killed_under_the_pool_costs_at_most_one_503(backend: Backend) -> None:
    """No pre-ping (three round trips per checkout on asyncpg): a connection the
    database dropped fails the request that meets it with 503, and the pool recovers."""
    if not backend.database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files: nothing can drop them")
    app = create_app(make_settings(backend, db_pool_size=2))
    router = APIRouter()

    @router.get("/_pid")
    async def pid(work: Work) -> dict[str, int]:
        return {"pid": (await work.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()}

    app.include_router(router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = await client.get("/_pid")
            assert first.status_code == 200
            admin = create_async_engine(backend.database_url, poolclass=NullPool)
            async with admin.connect() as connection:  # not one of the app's connections
                await connection.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": first.json()["pid"]}
                )
            await admin.dispose()
            answers = [await client.get("/_pid") for _ in range(3)]
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(503) <= 1
    assert statuses[-1] == 200
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["code"] == "DATABASE_UNAVAILABLE"


async def test_a_read_session_refuses_to_write(app: FastAPI) -> None:
    """Reads may run outside a transaction (PostgreSQL), so a GET that tried to write
    would not be atomic: read sessions refuse ORM and Core writes outright."""
    database = part(app, DATABASE)
    async with database.session(write=False) as session:
        with pytest.raises(ReadOnlySessionError):
            await session.execute(update(Tenant).values(name="changed"))
        session.add(Tenant(id=new_id("ten"), slug="sneaky", name="Sneaky", plan=Plan.FREE))
        with pytest.raises(ReadOnlySessionError):
            await session.flush()


async def test_reads_on_postgres_take_no_transaction(app: FastAPI, backend: Backend) -> None:
    """Each statement of a read is its own transaction on PostgreSQL (no BEGIN and
    COMMIT round trips); writes share one. now() is the transaction's start time."""
    if backend.name != "postgres":
        pytest.skip("SQLite keeps its read transaction (one snapshot per request)")
    database = part(app, DATABASE)

    async def two_clock_readings(write: bool) -> tuple[object, object]:
        async with database.session(write=write) as session:
            first = (await session.execute(text("SELECT CURRENT_TIMESTAMP"))).scalar_one()
            await asyncio.sleep(0.02)
            second = (await session.execute(text("SELECT CURRENT_TIMESTAMP"))).scalar_one()
            await session.commit()
            return first, second

    first, second = await two_clock_readings(write=True)
    assert first == second
    first, second = await two_clock_readings(write=False)
    assert first != second

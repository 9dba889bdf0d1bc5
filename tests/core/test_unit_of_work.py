"""One unit of work: its commit, and the work that waits for it (or is dropped)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from orderly.core.container import Container
from orderly.core.database import DATABASE, new_id
from orderly.core.errors import ConflictError
from orderly.core.failures import FAILURES
from orderly.core.identity import Plan
from orderly.core.jobs import JOBS, JobArgs
from orderly.core.response_cache import RESPONSE_CACHE, CachedBody
from orderly.core.tasks import TASKS
from orderly.core.unit_of_work import NoPrincipalError, UnitOfWork, unit_of_work
from orderly.items.models import Item
from orderly.main import create_app
from orderly.tenants.models import Tenant
from tests.conftest import make_settings
from tests.support.api import add_api_key, add_item, key_headers, register
from tests.support.eventually import eventually
from tests.support.services import Backend
from tests.support.throwaway import running_redis


@pytest.fixture
def container(app: FastAPI) -> Container:
    parts: Container = app.state.container
    return parts


class KeptError(ConflictError):
    code = "KEPT"
    persist_changes = True


def _add_tenant(uow: UnitOfWork) -> str:
    tenant_id = new_id("ten")
    uow.session.add(Tenant(id=tenant_id, slug=tenant_id, name="Probe", plan=Plan.FREE))
    return tenant_id


async def _committed(container: Container, tenant_id: str) -> bool:
    """Seen from another connection: only what is committed."""
    async with container[DATABASE].read_connection() as connection:
        stmt = select(Tenant.id).where(Tenant.id == tenant_id)
        return (await connection.execute(stmt)).first() is not None


async def test_a_clean_exit_commits(container: Container) -> None:
    async with unit_of_work(container) as uow:
        tenant_id = _add_tenant(uow)
    assert await _committed(container, tenant_id)


async def _add_tenant_then_fail(container: Container, added: list[str], error: Exception) -> None:
    async with unit_of_work(container) as uow:
        added.append(_add_tenant(uow))
        await uow.session.flush()
        raise error


async def test_an_error_rolls_back_and_propagates(container: Container) -> None:
    added: list[str] = []
    with pytest.raises(RuntimeError, match="boom"):
        await _add_tenant_then_fail(container, added, RuntimeError("boom"))
    assert not await _committed(container, added[0])


async def test_an_error_that_persists_its_changes_commits_and_still_propagates(
    container: Container,
) -> None:
    added: list[str] = []
    with pytest.raises(KeptError):
        await _add_tenant_then_fail(container, added, KeptError())
    assert await _committed(container, added[0])


async def test_work_after_commit_sees_the_committed_rows(container: Container) -> None:
    seen: list[bool] = []
    async with unit_of_work(container) as uow:
        tenant_id = _add_tenant(uow)

        async def look() -> None:
            seen.append(await _committed(container, tenant_id))

        uow.after_commit(look, name="look")
        assert seen == []
    assert seen == [True]


async def test_a_rollback_drops_actions_jobs_and_invalidations(container: Container) -> None:
    ran: list[str] = []

    async def job(args: JobArgs) -> None:
        ran.append("job")

    async def action() -> None:
        ran.append("action")

    async def body() -> CachedBody:
        return CachedBody(None, b"cached")

    async def marker(args: JobArgs) -> None:
        ran.append("marker")

    container[JOBS].register("test.dropped", job)
    container[JOBS].register("test.marker", marker)
    cache, tenant_id = container[RESPONSE_CACHE], new_id("ten")
    await cache.fetch("probe", tenant_id, "page", body)

    async def work_then_fail() -> None:
        async with unit_of_work(container) as uow:
            uow.enqueue_job("test.dropped")
            uow.after_commit(action, name="action")
            uow.mark_changed("probe", tenant_id)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await work_then_fail()
    # A job queued after it runs; the dropped one, handed over first had it been, not.
    async with unit_of_work(container) as uow:
        uow.enqueue_job("test.marker")
    await container[TASKS].drain()
    await eventually(lambda: ran, "the marker job ran")
    assert ran == ["marker"]
    assert (await cache.lookup("probe", tenant_id, "page")).hit is not None


async def test_jobs_are_handed_over_once_the_unit_has_committed(container: Container) -> None:
    committed_when_run: list[bool] = []

    async def job(args: JobArgs) -> None:
        committed_when_run.append(await _committed(container, str(args["tenant_id"])))

    container[JOBS].register("test.after_commit", job)
    async with unit_of_work(container) as uow:
        tenant_id = _add_tenant(uow)
        uow.enqueue_job("test.after_commit", tenant_id=tenant_id)
        await asyncio.sleep(0.05)  # were it handed over already, it would run now
        assert committed_when_run == []
    await eventually(lambda: committed_when_run, "the job ran")  # on either engine
    assert committed_when_run == [True]


async def test_failing_work_after_commit_is_counted_not_raised_and_the_rest_runs(
    container: Container,
) -> None:
    ran: list[str] = []

    async def broken() -> None:
        raise ConnectionError("the other party went away")

    async def fine() -> None:
        ran.append("fine")

    failures = container[FAILURES].counts
    failures_before = failures["after_commit"]
    async with unit_of_work(container) as uow:
        tenant_id = _add_tenant(uow)
        uow.after_commit(broken, name="broken")
        uow.after_commit(fine, name="fine")
        uow.enqueue_job("test.nobody_handles_this")
    assert await _committed(container, tenant_id)
    assert ran == ["fine"]
    assert failures["after_commit"] == failures_before + 2  # the action and the job


async def test_a_unit_for_nobody_refuses_work_that_needs_a_principal(
    container: Container,
) -> None:
    async with unit_of_work(container) as uow:
        assert uow.caller is None
        with pytest.raises(NoPrincipalError):
            _ = uow.principal


async def test_a_committed_write_answers_201_when_redis_dies_before_its_invalidation(
    backend: Backend,
) -> None:
    """The item is saved; its cache invalidation fails after the commit (Redis is
    gone). The client is told the truth, 201, and the failure is counted (the cache
    retries the invalidation itself)."""
    with running_redis() as redis_server:
        app = create_app(make_settings(backend, redis_url=redis_server.url))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                owner = await register(client)
                key = await add_api_key(client, owner, ["read:items", "write:items"])
                headers = key_headers(key["key"])
                await add_item(client, headers)  # the key is now resolved in-process
                redis_server.stop()
                failures = app.state.container[FAILURES].counts
                item = await add_item(client, headers)  # asserts the 201
                assert failures["cache_invalidation"] == 1
            async with app.state.container[DATABASE].read_connection() as connection:
                stmt = select(Item.id).where(Item.id == item["id"])
                assert (await connection.execute(stmt)).first() is not None

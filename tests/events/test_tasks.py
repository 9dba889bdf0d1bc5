"""The periodic purge deletes published events older than 30 days, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.unit_of_work import unit_of_work
from orderly.events import tasks
from orderly.events.models import Event
from orderly.events.relay import RELAY
from orderly.tenants.service import TenantService
from tests.events.helpers import container_of, record, wait_until_published


async def _tenant(container: Container) -> str:
    async with unit_of_work(container) as uow:
        return (await TenantService(uow, container).create("Old and new")).id


async def _age(container: Container, tenant_id: str, days: float, count: int) -> None:
    """Make ``count`` of the tenant's youngest events ``days`` old."""
    async with unit_of_work(container) as uow:
        ids = (
            await uow.session.scalars(
                select(Event.id)
                .where(Event.tenant_id == tenant_id, Event.created_at > utcnow() - timedelta(1))
                .order_by(Event.id.desc())
                .limit(count)
            )
        ).all()
        stmt = update(Event).where(Event.id.in_(ids)).values(created_at=utcnow() - timedelta(days))
        await uow.session.execute(stmt)


async def _ages(container: Container, tenant_id: str) -> list[tuple[int, bool]]:
    """(age in whole days, published) of the tenant's events, in id order."""
    now = utcnow()
    async with unit_of_work(container, write=False) as uow:
        rows = await uow.session.execute(
            select(Event.created_at, Event.seq)
            .where(Event.tenant_id == tenant_id)
            .order_by(Event.id)
        )
        return [((now - created).days, seq is not None) for created, seq in rows]


async def test_the_purge_deletes_only_published_events_older_than_thirty_days(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "PURGE_CHUNK", 2)  # several chunks from five rows
    container = container_of(app)
    tenant = await _tenant(container)
    await record(container, tenant, 3)
    await _age(container, tenant, 31, 3)
    await wait_until_published(container, tenant)
    # Then, with the relay stopped, one unpublished 40 days old and one of 29 days.
    await container[RELAY].stop()
    await record(container, tenant, 1)
    await _age(container, tenant, 40, 1)
    await record(container, tenant, 1)
    await _age(container, tenant, 29, 1)
    assert await _ages(container, tenant) == [
        (31, True),
        (31, True),
        (31, True),
        (40, False),
        (29, False),
    ]

    deleted = await tasks.purge_before(container, utcnow() - tasks.RETENTION)

    assert deleted == 3
    assert await _ages(container, tenant) == [(40, False), (29, False)]
    assert await tasks.purge_before(container, utcnow() - tasks.RETENTION) == 0


async def test_the_purge_keeps_published_events_younger_than_thirty_days(
    app: FastAPI,
) -> None:
    container = container_of(app)
    tenant = await _tenant(container)
    await record(container, tenant, 2)
    await _age(container, tenant, 29, 2)
    await wait_until_published(container, tenant)

    assert await tasks.purge_before(container, utcnow() - tasks.RETENTION) == 0
    assert await _ages(container, tenant) == [(29, True), (29, True)]

"""What the database layer promises every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import FastAPI
from sqlalchemy import select

from orderly.core.database import DATABASE, Database, new_id
from orderly.core.identity import Plan
from orderly.tenants.models import Tenant
from tests.support.parts import part


async def test_datetimes_come_back_aware_and_in_utc_on_every_read_path(app: FastAPI) -> None:
    """SQLite drops offsets and asyncpg converts to UTC itself (so UTCDateTime does no
    work there): either way, sessions and plain read connections see the same UTC."""
    database: Database = part(app, DATABASE)
    written = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=5)))
    tenant_id = new_id("ten")
    async with database.session(write=True) as session:
        session.add(
            Tenant(id=tenant_id, slug=tenant_id, name="Clock", plan=Plan.FREE, created_at=written)
        )
        await session.commit()
    stmt = select(Tenant.created_at).where(Tenant.id == tenant_id)
    async with database.session(write=False) as session:
        from_session = (await session.execute(stmt)).scalar_one()
    async with database.read_connection() as connection:
        from_connection = (await connection.execute(stmt)).scalar_one()
    for seen in (from_session, from_connection):
        assert seen == written
        assert seen.utcoffset() == timedelta(0)
        assert seen.isoformat() == "2026-01-01T22:04:05.678901+00:00"

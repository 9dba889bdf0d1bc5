"""Every migration upgrades and downgrades; the models and the migrations agree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderly.core.migrations import alembic_config
from orderly.models import Base
from tests.support.services import (
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('mig') / 'm.db'}"
        return
    name = create_postgres_database()
    try:
        yield postgres_url(name)
    finally:
        drop_postgres_database(name)


async def _inspect(url: str, fn: object) -> object:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    import asyncio

    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    tables = asyncio.run(_inspect(empty_database_url, _table_names))
    assert tables == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert asyncio.run(_inspect(empty_database_url, _table_names)) == set()
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(empty_database_url, _table_names)) == tables


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    import asyncio

    command.upgrade(alembic_config(empty_database_url), "head")
    assert asyncio.run(_inspect(empty_database_url, _diff)) == []

"""Emptying test databases, and counting the statements a piece of code runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.events.relay import BACKGROUND
from orderly.models import Base

# What PostgreSQL says when the TRUNCATE lost to a background transaction, not a bug.
RETRIED = ("deadlock detected", "canceling statement due to statement timeout")


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Leave the schema, drop the rows: each test starts from an empty database.

    The app is still running when a fixture empties its database, and so is its event
    relay, which may be reading the events and webhook tables right then: PostgreSQL
    can pick the TRUNCATE as a deadlock's victim, or the TRUNCATE can wait for its lock
    past the statement timeout behind a background job's transaction (seen once on a
    loaded machine). It is tried again (the relay's pass and the jobs' transactions are
    short, and they retry their own side by themselves)."""
    for attempt in range(1, 6):
        try:
            await _empty(engine)
            return
        except DBAPIError as exc:
            if not any(why in str(exc.orig) for why in RETRIED) or attempt == 5:
                raise


async def _empty(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if not tables:
        return
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement sent through ``engine`` inside the block, in order, but for
    the event relay's: it runs in the background, woken by any commit, so whether a
    pass falls inside the block is timing, not the code under test."""
    statements: list[str] = []

    def record(conn: Connection, *args: object) -> None:
        if not conn.get_execution_options().get(BACKGROUND, False):
            statements.append(str(args[1]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

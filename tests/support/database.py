"""Migrating and emptying test databases."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.models import Base


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Leave the schema, drop the rows: each test starts from an empty database."""
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

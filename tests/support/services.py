"""Real services for tests: a fresh SQLite file or PostgreSQL database per session,
a Redis key prefix per session. A missing service skips its half of the matrix,
unless ORDERLY_REQUIRE_SERVICES=1 (CI), where it fails."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest
from redis import Redis

POSTGRES_ADMIN_DSN = os.environ.get(
    "ORDERLY_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("ORDERLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("ORDERLY_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(f"{reason} (ORDERLY_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str


def _unique(tag: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"orderly_test_{tag}_{worker}_{uuid.uuid4().hex[:8]}"


def sqlite_backend(tmp_dir: Path) -> Backend:
    path = tmp_dir / f"{_unique('sqlite')}.db"
    return Backend("sqlite", f"sqlite+aiosqlite:///{path}", None, "unused:")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_postgres_database() -> str:
    name = _unique("pg")
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_DSN} does not answer: {exc!r}")
    return name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_url(name: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def require_redis() -> str:
    try:
        Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except OSError as exc:
        unavailable(f"Redis at {REDIS_URL} does not answer: {exc!r}")
    except Exception as exc:  # redis.ConnectionError and friends
        unavailable(f"Redis at {REDIS_URL} does not answer: {exc!r}")
    return REDIS_URL


def delete_redis_prefix(prefix: str) -> None:
    """Every key of the prefix, and those of its job queue (SAQ puts its own first:
    ``saq:<prefix>jobs:…``, ``saq:job:<prefix>jobs:…``)."""
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [
            key
            for pattern in (f"{prefix}*", f"saq:{prefix}*", f"saq:job:{prefix}*")
            for key in client.scan_iter(match=pattern, count=1000)
        ]
        if keys:
            client.delete(*keys)
    finally:
        client.close()

"""Dependency checks with a short timeout, run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.core.container import Key
from orderly.core.database import Database

logger = structlog.get_logger("orderly.health")


async def _database_ok(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis_ok(redis: Redis) -> None:
    await redis.ping()


async def _check(name: str, probe: Awaitable[None], limit_seconds: float) -> str | None:
    try:
        async with asyncio.timeout(limit_seconds):
            await probe
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness_check_failed", dependency=name, error=type(exc).__name__)
        return name
    return None


class ReadinessCheck:
    def __init__(self, database: Database, redis: Redis | None, *, timeout_seconds: float) -> None:
        self.database = database
        self.redis = redis
        self.timeout_seconds = timeout_seconds

    @property
    def dependencies(self) -> list[str]:
        """What is checked, in the order the answer names it."""
        return ["database"] if self.redis is None else ["database", "redis"]

    async def failing(self) -> list[str]:
        """Names of the dependencies that did not answer in time."""
        limit = self.timeout_seconds
        probes = [_check("database", _database_ok(self.database.engine), limit)]
        if self.redis is not None:
            probes.append(_check("redis", _redis_ok(self.redis), limit))
        return [name for name in await asyncio.gather(*probes) if name is not None]


READINESS: Key[ReadinessCheck] = Key("health.readiness")

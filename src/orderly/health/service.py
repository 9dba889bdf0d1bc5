"""Dependency checks with a short timeout, run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.core.resources import Resources

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


async def check_dependencies(resources: Resources) -> list[str]:
    """Names of the dependencies that did not answer in time."""
    limit = resources.settings.health_timeout_seconds
    probes = [_check("database", _database_ok(resources.database.engine), limit)]
    if resources.redis is not None:
        probes.append(_check("redis", _redis_ok(resources.redis), limit))
    return [name for name in await asyncio.gather(*probes) if name is not None]

"""Opening the parts of one app: core's first, then each domain's own.

``open_container(settings)`` is the one composition root: the HTTP lifespan, the CLI,
a worker and tests all open it the same way, with or without HTTP::

    async with open_container(settings) as container:
        async with unit_of_work(container) as uow:
            ...

A domain takes part by listing its ``provide`` in ``PROVIDERS``; nothing in ``core``
names a domain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from orderly.api_keys import resources as api_keys
from orderly.auth import resources as auth
from orderly.config import Settings
from orderly.core.cache import INVALIDATION_BUS, InvalidationBus
from orderly.core.container import Container
from orderly.core.database import DATABASE, Database, EngineOptions
from orderly.core.failures import FAILURES, FailureCounts
from orderly.core.jobs import JOBS, InProcessJobQueue
from orderly.core.kvstore import KV, REDIS, KeyValueStore, MemoryStore, RedisStore, open_redis
from orderly.core.outbox import OUTBOX
from orderly.core.pagination import CURSORS, CursorCodec
from orderly.core.passwords import PASSWORDS, PasswordHasher
from orderly.core.response_cache import RESPONSE_CACHE, ResponseCache
from orderly.core.tasks import TASKS, TaskRunner
from orderly.core.unit_of_work import UNITS, UnitsOfWork
from orderly.events import resources as events
from orderly.health import resources as health
from orderly.idempotency import resources as idempotency
from orderly.live import resources as live
from orderly.sessions import resources as sessions
from orderly.users import resources as users

Provider = Callable[[Container, Settings], Awaitable[None]]


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(
        url=settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        idle_in_transaction_timeout_seconds=settings.db_idle_in_transaction_timeout_seconds,
    )


def _open_redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    return open_redis(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        pool_timeout=settings.redis_pool_timeout,
        socket_timeout=settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_connect_timeout_seconds,
    )


async def _provide_stores(container: Container, settings: Settings) -> KeyValueStore:
    database = Database.open(engine_options(settings))
    container.add(DATABASE, database, close=database.dispose)
    redis = _open_redis(settings)
    container.add(REDIS, redis, close=redis.aclose if redis is not None else None)
    kv: KeyValueStore = (
        RedisStore(redis, prefix=settings.redis_prefix) if redis is not None else MemoryStore()
    )
    container.add(KV, kv)
    bus = InvalidationBus(redis, channel=f"{settings.redis_prefix}invalidate")
    container.add(INVALIDATION_BUS, bus, close=bus.stop)
    await bus.start()
    return kv


async def provide_core(container: Container, settings: Settings) -> None:
    """The shared infrastructure, in the order it is needed (and closed in reverse:
    background work drains before the bus, Redis and the database close)."""
    kv = await _provide_stores(container, settings)
    tasks = TaskRunner()
    container.add(TASKS, tasks, close=tasks.drain)
    container.add(JOBS, InProcessJobQueue(tasks))
    container.add(CURSORS, CursorCodec(settings.signing_key))
    failures = container.add(FAILURES, FailureCounts())
    cache = ResponseCache(
        kv,
        enabled=settings.cache_enabled,
        ttl_seconds=settings.cache_ttl_seconds,
        failures=failures,
    )
    container.add(RESPONSE_CACHE, cache, close=cache.close)
    passwords = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        workers=settings.password_hash_workers,
        max_wait_seconds=settings.password_hash_max_wait_seconds,
    )
    container.add(PASSWORDS, passwords, close=passwords.close)


async def provide_units(container: Container, settings: Settings) -> None:
    """Units of work: core's, but they write events through the outbox events provides."""
    units = UnitsOfWork(
        container[DATABASE],
        cache=container[RESPONSE_CACHE],
        outbox=container[OUTBOX],
        jobs=container[JOBS],
        failures=container[FAILURES],
    )
    container.add(UNITS, units)


# Core first; then every domain that contributes long-lived parts, each after the
# parts it reads (api_keys opens units of work, so it comes after them).
PROVIDERS: tuple[Provider, ...] = (
    provide_core,
    events.provide,
    provide_units,
    sessions.provide,
    users.provide,
    auth.provide,
    api_keys.provide,
    idempotency.provide,
    health.provide,
    live.provide,
)


@asynccontextmanager
async def open_container(
    settings: Settings, providers: Sequence[Provider] = PROVIDERS
) -> AsyncIterator[Container]:
    """Every part opened, and closed again on exit (also when opening fails half-way)."""
    container = Container()
    try:
        for provide in providers:
            await provide(container, settings)
        yield container
    finally:
        await container.aclose()

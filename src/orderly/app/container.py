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
from functools import partial

from redis.asyncio import Redis

from orderly.api_keys import resources as api_keys
from orderly.auth import resources as auth
from orderly.config import Settings
from orderly.core.cache import INVALIDATION_BUS, InvalidationBus
from orderly.core.container import Container
from orderly.core.database import DATABASE, Database, EngineOptions
from orderly.core.failures import FAILURES, FailureCounts
from orderly.core.jobs import JOB_RUNNER, JOBS, InProcessJobQueue, JobQueue, JobRunner
from orderly.core.jobs_saq import DEQUEUE_TIMEOUT_SECONDS, SAQ_JOBS, SaqJobQueue, queue_name
from orderly.core.kvstore import KV, REDIS, KeyValueStore, MemoryStore, RedisStore, open_redis
from orderly.core.outbox import OUTBOX
from orderly.core.pagination import CURSORS, CursorCodec
from orderly.core.passwords import PASSWORDS, PasswordHasher
from orderly.core.ratelimit import (
    CLIENT_ADDRESSES,
    RATE_LIMITER,
    ClientAddresses,
    MemoryWindowCounter,
    RateLimiter,
    RedisWindowCounter,
    WindowCounter,
)
from orderly.core.response_cache import RESPONSE_CACHE, ResponseCache
from orderly.core.tasks import TASKS, TaskRunner
from orderly.core.unit_of_work import UNITS, UnitsOfWork
from orderly.events import resources as events
from orderly.exports import resources as exports
from orderly.health import resources as health
from orderly.idempotency import resources as idempotency
from orderly.items import resources as items
from orderly.live import resources as live
from orderly.orders import resources as orders
from orderly.sessions import resources as sessions
from orderly.tenants import resources as tenants
from orderly.users import resources as users
from orderly.webhooks import resources as webhooks

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


def _open_worker_redis(settings: Settings, url: str) -> Redis:
    """A SAQ worker's own connections: one per concurrent wait for a job (BLMOVE, which
    may block ``DEQUEUE_TIMEOUT_SECONDS`` on top of the usual reply timeout), plus the
    upkeep loops, heartbeats and status updates."""
    return open_redis(
        url,
        max_connections=2 * settings.worker_concurrency + 8,
        pool_timeout=settings.redis_pool_timeout,
        socket_timeout=DEQUEUE_TIMEOUT_SECONDS + settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_connect_timeout_seconds,
    )


def _provide_jobs(
    container: Container, settings: Settings, tasks: TaskRunner, failures: FailureCounts
) -> None:
    """Embedded: jobs run in this process. Scale-out: they go to SAQ on Redis, for
    `orderly worker` (or this process too, with APP_WORKER_IN_PROCESS=true)."""
    redis, url = container[REDIS], settings.redis_url
    queue: JobQueue
    if redis is None or url is None:
        queue = InProcessJobQueue(
            tasks, failures, grace_seconds=settings.worker_shutdown_grace_seconds
        )
    else:
        queue = container.add(
            SAQ_JOBS,
            SaqJobQueue(
                redis,
                name=queue_name(settings.redis_prefix),
                failures=failures,
                worker_redis=partial(_open_worker_redis, settings, url),
            ),
        )
    container.add(JOBS, queue)


async def provide_core(container: Container, settings: Settings) -> None:
    """The shared infrastructure, in the order it is needed (and closed in reverse:
    background work drains before the bus, Redis and the database close)."""
    kv = await _provide_stores(container, settings)
    tasks = TaskRunner()
    container.add(TASKS, tasks, close=tasks.drain)
    failures = container.add(FAILURES, FailureCounts())
    _provide_jobs(container, settings, tasks, failures)
    container.add(CURSORS, CursorCodec(settings.signing_key))
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
    _provide_rate_limits(container, settings)


def _provide_rate_limits(container: Container, settings: Settings) -> None:
    """Counters shared through Redis in scale-out, in this process when embedded."""
    redis = container[REDIS]
    counter: WindowCounter = (
        RedisWindowCounter(redis, prefix=settings.redis_prefix)
        if redis is not None
        else MemoryWindowCounter()
    )
    limiter = RateLimiter(
        counter, failures=container[FAILURES], enabled=settings.rate_limit_enabled
    )
    container.add(RATE_LIMITER, limiter)
    container.add(CLIENT_ADDRESSES, ClientAddresses(settings.trusted_proxies))


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


async def run_jobs_here(container: Container, settings: Settings) -> None:
    """Last: every domain has registered its handlers. The runner is closed first, so
    running jobs finish (within the grace period) while everything they use is open."""
    if not settings.runs_jobs_in_process:
        return
    jobs = container[JOBS]
    runner: JobRunner
    if isinstance(jobs, SaqJobQueue):
        runner = jobs.worker(
            concurrency=settings.worker_concurrency,
            grace_seconds=settings.worker_shutdown_grace_seconds,
        )
    elif isinstance(jobs, InProcessJobQueue):
        runner = jobs
    else:  # pragma: no cover - a new engine must say how it runs here
        raise TypeError(f"no runner for {type(jobs).__name__}")
    container.add(JOB_RUNNER, runner, close=runner.stop)
    await runner.start()


# Core first; then every domain that contributes long-lived parts, each after the
# parts it reads (api_keys opens units of work, so it comes after them; tenants holds
# the usage meters that api_keys and items register, so it comes before them); then the
# jobs start running, once every handler is registered, and the relay.
PROVIDERS: tuple[Provider, ...] = (
    provide_core,
    events.provide,
    provide_units,
    sessions.provide,
    users.provide,
    auth.provide,
    tenants.provide,
    api_keys.provide,
    items.provide,
    idempotency.provide,
    orders.provide,
    health.provide,
    webhooks.provide,
    exports.provide,
    live.provide,
    run_jobs_here,
    # Last: the relay starts publishing at once, so every sink (and every job handler
    # they queue for) is registered by then; closed first, before the jobs drain.
    events.provide_relay,
)
# `orderly worker`: the same parts, but its relay is the one that publishes what the API
# processes commit, woken by their signals (events/wakeups.py).
WORKER_PROVIDERS: tuple[Provider, ...] = (
    *(provide for provide in PROVIDERS if provide is not events.provide_relay),
    events.provide_worker_relay,
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

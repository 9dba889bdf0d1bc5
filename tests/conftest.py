"""Fixtures: the backend matrix (embedded SQLite / PostgreSQL + Redis), a fresh app per
test with its real lifespan and middleware, and an HTTP client over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.database import DATABASE
from orderly.core.migrations import upgrade_to_head
from orderly.main import create_app
from tests.support.database import empty_all_tables
from tests.support.parts import part
from tests.support.services import (
    Backend,
    create_postgres_database,
    delete_redis_prefix,
    drop_postgres_database,
    postgres_url,
    require_redis,
    sqlite_backend,
)

# Servers a test may stop or freeze (tests/support/throwaway.py), and the scan of
# every log line of the session for secrets (tests/support/log_scan.py).
pytest_plugins = ["tests.support.log_scan", "tests.support.throwaway"]

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Production refuses keys that look weak; this one is ``secrets.token_urlsafe(48)``.
PRODUCTION_SECRET = "3fhL3BD7hYaBp1pYJISpIVysjyQBB6LHrNYfIvxU7H_3tWFgEWol9uL9x0BUf2Rh"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """Each API test runs twice: embedded mode and scale-out mode."""
    if request.param == "sqlite":
        chosen = sqlite_backend(tmp_path_factory.mktemp("db"))
        upgrade_to_head(chosen.database_url)
        yield chosen
        return
    redis_url = require_redis()
    name = create_postgres_database()
    chosen = Backend("postgres", postgres_url(name), redis_url, f"{name}:")
    try:
        upgrade_to_head(chosen.database_url)
        yield chosen
    finally:
        drop_postgres_database(name)
        delete_redis_prefix(chosen.redis_prefix)


def make_settings(backend: Backend, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        "redis_prefix": backend.redis_prefix,
        "secret_key": TEST_SECRET,
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        # Everything the app can log, so that the session's secret scan sees it all
        # (tests/support/log_scan.py).
        "log_level": "DEBUG",
        "log_format": "console",
        # Off unless a test is about them (tests/limits/): on PostgreSQL + Redis the
        # counters outlive a test (one Redis prefix per session), and the suite
        # registers far more than 5 tenants a minute from one address.
        "rate_limit_enabled": False,
        # Plan counts likewise (tests/limits/test_plans.py): elsewhere a test's tenant,
        # on the free plan, makes as many items and API keys as its scenario needs.
        "plan_limits": {"free": {"items": None, "api_keys": None, "webhook_endpoints": None}},
        # Jobs run in the test's own process on both backends (on PostgreSQL + Redis,
        # a SAQ worker inside the app), so a test sees what its jobs did. Two at a time:
        # each waiting worker slot holds a Redis connection.
        "worker_in_process": True,
        "worker_concurrency": 2,
        # The suite runs two xdist workers and server subprocesses on two cores: an event
        # loop can starve for seconds, and the production default of 2 s then fails a
        # Redis call that was never slow (REDIS_UNAVAILABLE on a bearer token's check,
        # seen once in CI). The outage tests set their own short timeouts.
        "redis_socket_timeout_seconds": 5.0,
        "redis_connect_timeout_seconds": 5.0,
        # Test receivers listen on loopback; the SSRF guard's own tests turn this off.
        "webhook_allow_private_networks": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(backend)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await empty_all_tables(part(application, DATABASE).engine)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
        yield ac


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent

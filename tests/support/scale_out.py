"""Real `orderly serve` processes in scale-out mode: a migrated PostgreSQL database of
their own and a Redis key prefix, both removed afterwards, and an owner to call them as."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from orderly.core.migrations import upgrade_to_head
from tests.conftest import TEST_SECRET
from tests.support.api import PASSWORD
from tests.support.services import (
    create_postgres_database,
    delete_redis_prefix,
    drop_postgres_database,
    postgres_url,
    require_redis,
)

# Argon2 at its production cost would make every login of a test take a second.
FAST_PASSWORD_HASHING = {
    "APP_PASSWORD_HASH_TIME_COST": "1",
    "APP_PASSWORD_HASH_MEMORY_KIB": "1024",
}


@contextmanager
def scale_out_environment(**extra: str) -> Iterator[dict[str, str]]:
    """The APP_* variables of processes sharing one database and one Redis prefix."""
    redis_url = require_redis()
    name = create_postgres_database()
    url = postgres_url(name)
    try:
        upgrade_to_head(url)
        yield {
            "APP_DATABASE_URL": url,
            "APP_REDIS_URL": redis_url,
            "APP_REDIS_PREFIX": f"{name}:",
            "APP_SECRET_KEY": TEST_SECRET,
            **FAST_PASSWORD_HASHING,
            "APP_LOG_LEVEL": "WARNING",
            **extra,
        }
    finally:
        drop_postgres_database(name)
        delete_redis_prefix(f"{name}:")


def owner_headers(base: str, email: str) -> dict[str, str]:
    """Register a tenant through ``base`` and log its owner in."""
    registered = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"tenant_name": "Scale out", "email": email, "password": PASSWORD, "full_name": "O"},
    )
    assert registered.status_code == 201, registered.text
    token = httpx.post(
        f"{base}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}

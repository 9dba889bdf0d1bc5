"""What one API process decides holds for the others (scale-out mode: PostgreSQL +
Redis), with two real `orderly serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orderly.core.migrations import upgrade_to_head
from tests.conftest import TEST_SECRET
from tests.support.server import running_server
from tests.support.services import (
    create_postgres_database,
    delete_redis_prefix,
    drop_postgres_database,
    postgres_url,
    require_redis,
)

pytestmark = pytest.mark.xdist_group("servers")


@pytest.fixture
def scale_out_env() -> Iterator[dict[str, str]]:
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
            "APP_PASSWORD_HASH_TIME_COST": "1",
            "APP_PASSWORD_HASH_MEMORY_KIB": "1024",
            "APP_LOG_LEVEL": "WARNING",
        }
    finally:
        drop_postgres_database(name)
        delete_redis_prefix(f"{name}:")


def _owner_headers(base: str) -> dict[str, str]:
    email = "cross@example.com"
    registered = httpx.post(
        f"{base}/api/v1/auth/register",
        json={
            "tenant_name": "Cross",
            "email": email,
            "password": "long-enough-pw",
            "full_name": "C",
        },
    )
    assert registered.status_code == 201, registered.text
    token = httpx.post(
        f"{base}/api/v1/auth/login", data={"username": email, "password": "long-enough-pw"}
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_revoked_api_key_fails_at_once_in_every_process(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        running_server(tmp_path, scale_out_env) as first,
        running_server(tmp_path, scale_out_env) as second,
    ):
        owner = _owner_headers(first)
        key = httpx.post(
            f"{first}/api/v1/api-keys", headers=owner, json={"name": "k", "scopes": ["read:items"]}
        ).json()
        as_key = {"X-API-Key": key["key"]}
        # The second process resolves the key (and caches the resolution)...
        assert httpx.get(f"{second}/api/v1/api-keys", headers=as_key).status_code == 403
        # ...the first revokes it...
        revoked = httpx.delete(f"{first}/api/v1/api-keys/{key['id']}", headers=owner)
        assert revoked.status_code == 204
        # ...and the second refuses it on the very next request.
        assert httpx.get(f"{second}/api/v1/api-keys", headers=as_key).status_code == 401


def test_a_deactivated_users_token_fails_at_once_in_every_process(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        running_server(tmp_path, scale_out_env) as first,
        running_server(tmp_path, scale_out_env) as second,
    ):
        owner = _owner_headers(first)
        member = httpx.post(
            f"{first}/api/v1/users",
            headers=owner,
            json={
                "email": "m@example.com",
                "password": "long-enough-pw",
                "full_name": "M",
                "role": "member",
            },
        ).json()
        token = httpx.post(
            f"{second}/api/v1/auth/login",
            data={"username": "m@example.com", "password": "long-enough-pw"},
        )
        member_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert httpx.get(f"{second}/api/v1/users/me", headers=member_headers).status_code == 200
        gone = httpx.delete(f"{first}/api/v1/users/{member['id']}", headers=owner)
        assert gone.status_code == 204
        assert httpx.get(f"{second}/api/v1/users/me", headers=member_headers).status_code == 401

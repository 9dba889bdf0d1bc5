"""What one API process decides holds for the others (scale-out mode: PostgreSQL +
Redis), with two real `orderly serve` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scale_out import owner_headers, scale_out_environment
from tests.support.server import free_port, running_server, wait_until_live

pytestmark = pytest.mark.xdist_group("servers")


@pytest.fixture
def scale_out_env() -> Iterator[dict[str, str]]:
    with scale_out_environment() as env:
        yield env


def test_a_revoked_api_key_fails_at_once_in_every_process(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        running_server(tmp_path, scale_out_env) as first,
        running_server(tmp_path, scale_out_env) as second,
    ):
        owner = owner_headers(first, "cross@example.com")
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
        owner = owner_headers(first, "cross@example.com")
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


def test_a_two_worker_scale_out_serve_answers_without_restarting_workers(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    # The console script, as users run it: spawned workers re-import it as __mp_main__.
    orderly = Path(sys.executable).with_name("orderly")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env |= scale_out_env | {"APP_LOG_LEVEL": "INFO", "APP_LOG_FORMAT": "json"}
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(orderly), "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # Each worker imports the app while the other does: over 30 s on a loaded
            # 2-core machine (uvicorn's 5 s health check used to kill them meanwhile).
            wait_until_live(base, process, within_seconds=120)
            owner = owner_headers(base, "cross@example.com")
            # Enough requests for both workers to serve some (one listening socket).
            for _ in range(20):
                me = httpx.get(f"{base}/api/v1/users/me", headers=owner)
                assert me.status_code == 200, me.text
        finally:
            process.terminate()
            process.wait(timeout=30)
    lines = log.read_text()
    assert lines.count("Started server process") == 2, lines
    assert "died" not in lines, lines
    assert "was not ready" not in lines, lines

"""A rate limit is shared by every API process (scale-out: PostgreSQL + Redis), with
two real `orderly serve` processes on one Redis prefix."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.scale_out import owner_headers, scale_out_environment
from tests.support.server import running_server

pytestmark = pytest.mark.xdist_group("servers")

PER_MINUTE = 6


@pytest.fixture
def scale_out_env() -> Iterator[dict[str, str]]:
    rate_limited = f'{{"free": {{"requests_per_minute": {PER_MINUTE}}}}}'
    with scale_out_environment(APP_RATE_LIMIT_ENABLED="true", APP_PLAN_LIMITS=rate_limited) as env:
        yield env


def _wait_for_a_fresh_window(needed_seconds: float = 20.0) -> None:
    """Counters are per clock minute, in every process alike. A test that must see N
    requests in one window starts with at least ``needed_seconds`` of it left (this
    aligns with the clock; it does not wait for anything to happen)."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.1)


def test_the_quota_is_shared_by_two_processes(
    scale_out_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        running_server(tmp_path, scale_out_env) as first,
        running_server(tmp_path, scale_out_env) as second,
    ):
        owner = owner_headers(first, "limits@example.com")
        _wait_for_a_fresh_window()
        answers = [
            httpx.get(f"{(first, second)[n % 2]}/api/v1/users/me", headers=owner)
            for n in range(PER_MINUTE)
        ]
        over_on_first = httpx.get(f"{first}/api/v1/users/me", headers=owner)
        over_on_second = httpx.get(f"{second}/api/v1/users/me", headers=owner)

    assert [a.status_code for a in answers] == [200] * PER_MINUTE
    remaining = [a.headers["ratelimit"].split(";")[1] for a in answers]
    assert remaining == [f"r={n}" for n in range(PER_MINUTE - 1, -1, -1)]
    assert (over_on_first.status_code, over_on_second.status_code) == (429, 429)
    assert over_on_second.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(over_on_second.headers["retry-after"]) <= 60

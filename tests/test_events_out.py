"""Events out in scale-out mode, end to end, with every part real: an `orderly serve`
process and `orderly worker` processes on PostgreSQL and a Redis of the test's own,
and a webhook receiver on loopback that verifies each signature with the
``standardwebhooks`` library.

SPEC "Webhooks": an event committed is delivered at least once to every subscribed
endpoint even if a worker is killed (SIGKILL) mid-delivery or Redis restarts: the
database holds each delivery's state, the queue only carries work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from orderly.core.migrations import upgrade_to_head
from tests.conftest import TEST_SECRET
from tests.support.server import running_server, session_log
from tests.support.services import (
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
)
from tests.support.throwaway import ThrowawayRedis
from tests.webhooks.receiver import Received, Receiver, running_receiver

pytestmark = pytest.mark.xdist_group("servers")

API = "/api/v1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from running_receiver()


@pytest.fixture
def env(throwaway_redis: ThrowawayRedis) -> Iterator[dict[str, str]]:
    name = create_postgres_database()
    url = postgres_url(name)
    try:
        upgrade_to_head(url)
        yield {
            "APP_DATABASE_URL": url,
            "APP_REDIS_URL": throwaway_redis.url,
            "APP_REDIS_PREFIX": f"{name}:",
            "APP_SECRET_KEY": TEST_SECRET,
            "APP_PASSWORD_HASH_TIME_COST": "1",
            "APP_PASSWORD_HASH_MEMORY_KIB": "1024",
            "APP_LOG_LEVEL": "INFO",
            "APP_WORKER_IN_PROCESS": "false",
            "APP_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
            "APP_WEBHOOK_RETRY_SCHEDULE": "1,1,2,2,2",
            "APP_WEBHOOK_TIMEOUT_SECONDS": "2",
            "APP_WEBHOOK_SWEEP_SECONDS": "1",
        }
    finally:
        drop_postgres_database(name)


@contextmanager
def worker(workdir: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    log = session_log("worker.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "orderly", "worker"],
        cwd=workdir,
        env=base | env,
        stdout=log,
        stderr=log,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=40)
        if not isinstance(log, int):
            log.close()


def _tenant(base: str, hook_url: str) -> tuple[dict[str, str], str, str]:
    """An owner, an item to order and an endpoint subscribed to order.*: (auth
    headers, item id, the endpoint's secret)."""
    body = {"tenant_name": "Hooks", "email": "hooks@example.com", "password": "long-enough-pw"}
    registered = httpx.post(f"{base}{API}/auth/register", json=body | {"full_name": "H"})
    assert registered.status_code == 201, registered.text
    form = {"username": body["email"], "password": body["password"]}
    token = httpx.post(f"{base}{API}/auth/login", data=form).json()["access_token"]
    owner = {"Authorization": f"Bearer {token}"}
    item = {"sku": "HOOK-1", "name": "Hook", "price": "1.00", "currency": "USD", "stock": 100}
    item_id = httpx.post(f"{base}{API}/items", json=item, headers=owner).json()["id"]
    hook = {"url": hook_url, "event_types": ["order.*"]}
    created = httpx.post(f"{base}{API}/webhooks", json=hook, headers=owner)
    assert created.status_code == 201, created.text
    return owner, item_id, created.json()["secret"]


def _order(base: str, owner: dict[str, str], item_id: str) -> str:
    lines = {"lines": [{"item_id": item_id, "quantity": 1}]}
    placed = httpx.post(f"{base}{API}/orders", json=lines, headers=owner)
    assert placed.status_code == 201, placed.text
    return str(placed.json()["id"])


def _webhook_id(request: Received) -> str:
    return request.headers["webhook-id"]


def _order_ids(receiver: Receiver) -> set[str]:
    return {str(json.loads(r.body)["data"]["id"]) for r in receiver.received}


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_delivery_loses_nothing(
    tmp_path: Path, env: dict[str, str], receiver: Receiver
) -> None:
    with running_server(tmp_path, env) as base:
        owner, item_id, secret = _tenant(base, receiver.url)
        receiver.trust(secret)
        receiver.hold()  # the first delivery arrives and gets no answer
        with worker(tmp_path, env) as first:
            order_id = _order(base, owner, item_id)
            assert _wait(lambda: receiver.received, 15), "no delivery reached the receiver"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        held = receiver.received[0]
        assert json.loads(held.body)["data"]["id"] == order_id
        receiver.release()
        # The killed worker's lease on the delivery runs out (timeout + 30 s), then the
        # sweeper (every second here) or SAQ's own retry of the dead job sends it again.
        with worker(tmp_path, env):
            same_id = _webhook_id(held)
            assert _wait(
                lambda: [_webhook_id(r) for r in receiver.received].count(same_id) >= 2, 90
            ), "the delivery the killed worker held was never sent again"
    # Both arrivals carry the same webhook-id (receivers deduplicate on it) and
    # verified with the endpoint's secret.
    assert all(r.verified for r in receiver.received)


def test_a_redis_restart_with_deliveries_pending_loses_nothing(
    tmp_path: Path, env: dict[str, str], throwaway_redis: ThrowawayRedis, receiver: Receiver
) -> None:
    with running_server(tmp_path, env) as base:
        owner, item_id, secret = _tenant(base, receiver.url)
        receiver.trust(secret)
        # No worker yet: the deliveries wait as rows (and as jobs in Redis).
        orders = {_order(base, owner, item_id) for _ in range(5)}
        time.sleep(1.5)  # let the relay turn them into deliveries and queue their jobs
        throwaway_redis.restart()  # the queued jobs are gone: Redis keeps nothing on disk here
        with worker(tmp_path, env):
            assert _wait(lambda: _order_ids(receiver) >= orders, 40), (
                f"delivered {sorted(_order_ids(receiver))}, expected {sorted(orders)}"
            )
    assert all(r.verified for r in receiver.received)

"""Throwaway servers for tests that must break them (the shared ones stay untouched)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support.server import free_port
from tests.support.services import unavailable


@contextmanager
def throwaway_redis() -> Iterator[str]:
    """A private redis-server on a free loopback port, without persistence."""
    port = free_port()
    executable = shutil.which("redis-server")
    if executable is None:
        unavailable("redis-server is not installed")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            str(executable),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            Redis.from_url(url, socket_timeout=1).ping()
            return
        except RedisConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

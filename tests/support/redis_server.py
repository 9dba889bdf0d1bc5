"""A throwaway Redis of a test's own, on a free port, that the test may stop (the
shared one on 6379 belongs to every test running at the same time)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from tests.support.server import free_port
from tests.support.services import unavailable


@dataclass
class ThrowawayRedis:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def throwaway_redis(workdir: Path) -> Iterator[ThrowawayRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
        raise AssertionError  # unreachable: unavailable() skips or fails
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = ThrowawayRedis(f"redis://127.0.0.1:{port}/0", process)
    try:
        _wait_for(server)
        yield server
    finally:
        server.stop()


def _wait_for(server: ThrowawayRedis) -> None:
    client = Redis.from_url(server.url, socket_timeout=0.5)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError("the throwaway redis-server did not answer in 10 s")
    finally:
        client.close()

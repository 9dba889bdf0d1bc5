"""A real `orderly serve` process on a free port, for tests that need a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    base_env |= {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'server.db'}"}
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "orderly", "serve", "--port", str(port)],
        cwd=workdir,
        env=base_env | (env or {}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_until_live(
    url: str, process: subprocess.Popen[bytes], *, within_seconds: float = 30
) -> None:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not become live in {within_seconds} s")

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
from typing import IO

import httpx

from tests.support.log_scan import LOG_DIR_ENV


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def session_log(name: str) -> IO[bytes] | int:
    """A file in the test session's log directory (scanned for secrets at the end of
    the session, see log_scan.py), or nowhere outside such a session."""
    directory = os.environ.get(LOG_DIR_ENV)
    if directory is None:
        return subprocess.DEVNULL
    return (Path(directory) / name).open("ab")


@contextmanager
def running_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    with running_process(workdir, env) as (url, _process):
        yield url


@contextmanager
def running_process(
    workdir: Path, env: dict[str, str] | None = None, *, start_seconds: float = 30
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``running_server``, with the process (its pid: memory, descriptors).
    ``start_seconds``: how long it may take to answer (imports on a loaded machine)."""
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    base_env |= {
        "APP_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'server.db'}",
        "APP_LOG_LEVEL": "DEBUG",
        # As in make_settings: a test that is about rate limits turns them on.
        "APP_RATE_LIMIT_ENABLED": "false",
    }
    log = session_log(f"server-{port}.log")
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "orderly", "serve", "--port", str(port)],
        cwd=workdir,
        env=base_env | (env or {}),
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process, within_seconds=start_seconds)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        if not isinstance(log, int):
            log.close()


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

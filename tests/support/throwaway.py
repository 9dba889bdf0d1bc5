"""Servers of a test's own (a PostgreSQL cluster, a Redis), on free ports in temp dirs,
which the test may stop, restart or freeze (SIGSTOP) without touching the shared ones
other tests use. Missing binaries skip the test (fail under ORDERLY_REQUIRE_SERVICES=1).

Fixtures (registered in ``tests/conftest.py``): ``throwaway_postgres`` (one migrated
cluster per test session and worker, restarted after each test that stopped, froze or
began shutting it down) and ``throwaway_redis`` (one server per test).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from orderly.core.migrations import upgrade_to_head
from tests.support.server import free_port
from tests.support.services import unavailable


def _wait_for_port(port: int, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (PostgreSQL backends are children of the postmaster)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, signum)


class ThrowawayPostgres:
    """``initdb`` in a temp dir; ``pg_ctl`` starts and stops it on a free port."""

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.bin_dir = bin_dir
        self.port = free_port()
        self._frozen: list[int] = []
        self._disturbed = False
        # PostgreSQL refuses to run as root; the tests may run as root in containers.
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user is not None:
            shutil.chown(root, self._user)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        done = subprocess.run(  # noqa: S603 - the PostgreSQL tools, with our arguments
            [str(self.bin_dir / tool), *args],
            user=self._user,
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return done.returncode

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (57P01 to those mid-query); ``immediate`` crashes."""
        self._disturbed = True
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def begin_shutdown(self) -> None:
        """A smart shutdown, not waited for: open sessions go on, new connections are
        refused with SQLSTATE 57P03 ("shutting down") until the last session ends."""
        self._disturbed = True
        self._run("pg_ctl", "-D", str(self.data), "-m", "smart", "-W", "stop")

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def freeze(self) -> None:
        """SIGSTOP the postmaster, then its backends: connections stay open, nothing
        answers (a hung host, as far as a client can tell)."""
        self._disturbed = True
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        _signal_all([postmaster], signal.SIGSTOP)  # first: it forks no backend after this
        backends = _children(postmaster)
        _signal_all(backends, signal.SIGSTOP)
        self._frozen = [postmaster, *backends]

    def thaw(self) -> None:
        _signal_all(self._frozen, signal.SIGCONT)
        self._frozen = []

    def restore(self) -> None:
        """Running and answering again, whatever a test left (frozen, stopped, or in
        the middle of a shutdown)."""
        if not self._disturbed:
            return
        self.thaw()
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.start()
        self._disturbed = False

    @contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()


class ThrowawayRedis:
    """``redis-server`` without persistence; a restart is a new, empty server."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - redis-server, with our arguments
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)  # a frozen server cannot exit
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP: connections stay open, nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self._process.send_signal(signal.SIGCONT)


def _postgres_bin_dir() -> Path | None:
    """On PATH, else Debian's /usr/lib/postgresql/<major>/bin (the newest)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    dirs = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    versioned = [d for d in dirs if d.parent.name.isdigit()]
    return max(versioned, key=lambda d: int(d.parent.name)) if versioned else None


@pytest.fixture(scope="session")
def _postgres_cluster() -> Iterator[ThrowawayPostgres]:
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's tmp dir: that one is private to our user, and the cluster may
    # run as the postgres user.
    root = Path(tempfile.mkdtemp(prefix="orderly-pg-"))
    try:
        cluster = ThrowawayPostgres(root, bin_dir)
        cluster.start()
        try:
            upgrade_to_head(cluster.url)
            yield cluster
        finally:
            if cluster.running:
                cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def throwaway_postgres(_postgres_cluster: ThrowawayPostgres) -> Iterator[ThrowawayPostgres]:
    """The session's cluster, running; restarted after a test that disturbed it."""
    yield _postgres_cluster
    _postgres_cluster.restore()


@contextmanager
def running_redis() -> Iterator[ThrowawayRedis]:
    """A started throwaway redis-server, stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    server = ThrowawayRedis(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    with running_redis() as server:
        yield server

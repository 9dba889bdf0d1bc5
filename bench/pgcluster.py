"""PostgreSQL for a run: the harness's own cluster, pinned to the server's core.

A ratio that includes the database is only stable when the database's CPU comes from
a known place. The machine's shared cluster runs wherever the scheduler puts it: on
the server's core on one day, on the load generator's on another (issue 16 saw the
uncached ratio move from 0.205x to 0.133x between two days for that reason alone).
So by default the harness runs a cluster of its own (``initdb`` into a temporary
directory, default settings, durable commits) and starts it with ``taskset -c 0``:
the postmaster and every backend it forks inherit the affinity, so the server and its
database share core 0 and wrk has core 1 to itself.

``--pg shared`` uses the machine's cluster at 127.0.0.1:5432 as before.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.procs import SERVER_CORE, BenchError, free_port, pinned


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    data_dir: Path | None  # None: not ours (the shared cluster)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def app_url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"


SHARED = PgServer("127.0.0.1", 5432, None)


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    dirs = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    versioned = [d for d in dirs if d.parent.name.isdigit()]
    if not versioned:
        raise BenchError("--pg private needs the PostgreSQL server binaries (initdb, pg_ctl)")
    return max(versioned, key=lambda d: int(d.parent.name))


class PrivateCluster:
    """initdb + pg_ctl in a temporary directory; started pinned to the server's core."""

    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        # Not under /tmp/pytest-like private dirs: the cluster runs as postgres when root.
        self.root = Path(tempfile.mkdtemp(prefix="orderly-bench-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user is not None:
            shutil.chown(self.root, self._user)

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(  # noqa: S603 - the PostgreSQL tools, with our arguments
            argv, user=self._user, capture_output=True, check=False
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise BenchError(f"{what} failed (exit {done.returncode}):\n{output}")

    def start(self) -> PgServer:
        initdb = str(self.bin_dir / "initdb")
        self._run([initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres"], "initdb")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        pg_ctl = str(self.bin_dir / "pg_ctl")
        log = str(self.root / "postgres.log")
        start = [pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start"]
        self._run(pinned(SERVER_CORE, start), "pg_ctl start")
        return PgServer("127.0.0.1", self.port, self.data)

    def stop(self) -> None:
        pg_ctl = str(self.bin_dir / "pg_ctl")
        try:
            self._run([pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])

"""Process plumbing: spawn in own process group, wait for readiness, stop, peak RSS."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
LOAD_CORE = "1"


class BenchError(RuntimeError):
    """A failure that ends the run with a message instead of a traceback."""


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class PeakRss:
    pid: int
    cmdline: str
    vm_hwm_kib: int
    vm_rss_kib: int

    @property
    def peak_mb(self) -> float:
        return self.vm_hwm_kib / 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(core: str, argv: Sequence[str]) -> list[str]:
    return ["taskset", "-c", core, *argv]


def run_checked(argv: Sequence[str], env: Mapping[str, str], what: str) -> None:
    """Run a short command to completion; raise BenchError with its output on failure."""
    done = subprocess.run(  # noqa: S603 - argv built by the harness, no shell
        list(argv), env=dict(env), cwd=REPO_ROOT, capture_output=True, check=False
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{output}")


def spawn(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, port: int
) -> Server:
    """Start argv in a new session (its own process group), output to log_path."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv built by the harness, no shell
            list(argv),
            env=dict(env),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name=name, port=port, proc=proc, log_path=log_path)


def log_tail(server: Server, limit: int = 4000) -> str:
    try:
        return server.log_path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def wait_ready(server: Server, path: str, timeout_s: float = 60.0) -> None:
    """Poll GET path until it answers 200; fail fast if the process dies."""
    deadline = time.monotonic() + timeout_s
    url = server.base_url + path
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise BenchError(
                    f"{server.name} exited with {server.proc.returncode} before "
                    f"{path} answered 200; log tail:\n{log_tail(server)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return
            time.sleep(0.25)
    raise BenchError(
        f"{server.name}: {url} not 200 within {timeout_s:.0f}s; log tail:\n{log_tail(server)}"
    )


def stop(server: Server, grace_s: float = 10.0) -> None:
    """SIGTERM the server's whole process group, then SIGKILL whatever is left."""
    _signal_group(server.proc.pid, signal.SIGTERM)
    if not _wait_group(server, grace_s):
        _signal_group(server.proc.pid, signal.SIGKILL)
        _wait_group(server, 5.0)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_group(server: Server, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        exited = server.proc.poll() is not None
        if exited and not group_pids(server.proc.pid):
            return True
        time.sleep(0.1)
    return False


def group_pids(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose process group is pgid."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def _status_kib(pid: int) -> tuple[int, int]:
    values = {"VmHWM:": 0, "VmRSS:": 0}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        parts = line.split()
        if parts and parts[0] in values:
            values[parts[0]] = int(parts[1])
    return values["VmHWM:"], values["VmRSS:"]


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def peak_rss(server: Server) -> PeakRss | None:
    """Peak RSS (VmHWM) of the process that serves: the largest in the group.

    The group is taskset -> uv -> python (uvicorn); with --workers 1 uvicorn
    serves in that python process, with more workers in children. Either way
    the process holding the application is the one with the largest RSS.
    """
    best: PeakRss | None = None
    for pid in group_pids(server.proc.pid):
        hwm, rss = _status_kib(pid)
        if best is None or rss > best.vm_rss_kib:
            best = PeakRss(pid, _cmdline(pid), hwm, rss)
    return best

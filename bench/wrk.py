"""Run wrk pinned to the load core and parse the JSON line our Lua done() prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.out import say
from bench.procs import LOAD_CORE, REPO_ROOT, BenchError, pinned, run_checked

LUA_DIR = Path(__file__).resolve().parent / "lua"
_MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class WrkSpec:
    url: str
    script: str  # file name under bench/lua/
    connections: int
    duration_s: float
    timeout_s: float
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    counters: dict[str, int]

    @property
    def error_total(self) -> int:
        """Socket errors, timeouts and non-2xx/3xx answers (a 304 is fine)."""
        return sum(self.errors.values())

    @property
    def stalled(self) -> bool:
        return self.requests == 0 or self.errors.get("timeout", 0) > 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ensure_wrk() -> str:
    """Path of wrk; installs Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk not found: installing Debian's package (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_checked(["apt-get", "update"], env, "apt-get update")
    run_checked(["apt-get", "install", "-y", "wrk"], env, "apt-get install wrk")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk still not on PATH after apt-get install")
    return found


def wrk_version(wrk: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [wrk, "-v"], capture_output=True, check=False, text=True
    )
    lines = (done.stdout + done.stderr).splitlines()
    return lines[0].strip() if lines else "unknown"


def start(wrk: str, spec: WrkSpec) -> subprocess.Popen[str]:
    argv = pinned(
        LOAD_CORE,
        [
            wrk,
            "-t1",
            f"-c{spec.connections}",
            f"-d{spec.duration_s:g}s",
            "--timeout",
            f"{spec.timeout_s:g}s",
            "-s",
            str(LUA_DIR / spec.script),
            spec.url,
        ],
    )
    env = {**os.environ, **spec.env, "BENCH_LUA_DIR": str(LUA_DIR)}
    return subprocess.Popen(  # noqa: S603 - argv built by the harness, no shell
        argv,
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], spec: WrkSpec) -> WrkResult:
    try:
        stdout, stderr = proc.communicate(timeout=spec.duration_s + spec.timeout_s + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError(f"wrk did not finish: {spec.url}") from None
    for line in stdout.splitlines():
        if line.startswith(_MARKER):
            return parse(json.loads(line[len(_MARKER) :]))
    raise BenchError(
        f"wrk gave no result for {spec.url} (exit {proc.returncode}):\n"
        f"{stdout[-2000:]}\n{stderr[-2000:]}"
    )


def run(wrk: str, spec: WrkSpec) -> WrkResult:
    return finish(start(wrk, spec), spec)


def parse(data: Mapping[str, Any]) -> WrkResult:
    latency = data["latency_us"]
    duration_s = data["duration_us"] / 1e6
    requests = int(data["requests"])
    return WrkResult(
        requests=requests,
        duration_s=duration_s,
        rps=requests / duration_s if duration_s > 0 else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors={k: int(v) for k, v in data["errors"].items()},
        counters={k: int(v) for k, v in data["counters"].items()},
    )

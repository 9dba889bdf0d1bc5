"""Command-line options of ``python -m bench``."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Options:
    rounds: int = 3
    duration_s: float = 10.0
    connections: int = 64
    timeout_s: float = 2.0
    c256: bool = True
    baseline_only: bool = False
    db: Literal["postgres", "sqlite"] = "postgres"
    pg: Literal["private", "shared"] = "shared"
    redis: bool = False
    cache: Literal["on", "off"] = "on"
    items: int = 1000
    seed_concurrency: int = 8
    orderly_command: tuple[str, ...] = ("uv", "run", "orderly")
    server_env: dict[str, str] = field(default_factory=dict)
    only: tuple[str, ...] = ()
    results_dir: Path = RESULTS_DIR
    strict: bool = False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark Orderly against a bare-FastAPI and a raw ASGI baseline.",
    )
    p.add_argument("--rounds", type=int, help="A/B rounds (default 3; --quick: 1)")
    p.add_argument("--duration", type=float, help="seconds per run (default 10; --quick: 3)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--timeout", type=float, default=2.0, help="wrk socket timeout, s")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 round of 3 s, no c256")
    p.add_argument(
        "--c256",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run every scenario once at 256 connections (default: on, off with --quick)",
    )
    p.add_argument(
        "--baseline-only",
        action="store_true",
        help="self-check: run the scenarios against the baselines only",
    )
    p.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument(
        "--pg",
        choices=("private", "shared"),
        default="shared",
        help="private: the run's own cluster pinned to the server's core (the stable "
        "database ratio of issue 16); shared: the machine's cluster at 127.0.0.1:5432 "
        "(default until the order budget is met on the private one)",
    )
    p.add_argument("--redis", action="store_true", help="scale-out mode with Redis")
    p.add_argument(
        "--cache",
        choices=("on", "off"),
        default="on",
        help="off: the main Orderly server also runs with APP_CACHE_ENABLED=false",
    )
    p.add_argument("--items", type=int, default=1000, help="items to seed")
    p.add_argument("--seed-concurrency", type=int, default=8)
    p.add_argument(
        "--orderly-command",
        default="uv run orderly",
        help="how to invoke the Orderly CLI (default: 'uv run orderly')",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the Orderly servers (repeatable)",
    )
    p.add_argument("--only", default="", help="comma-separated scenario names")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--strict", action="store_true", help="exit 3 when a budget fails")
    return p


def _env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--server-env needs KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def parse(argv: Sequence[str] | None = None) -> Options:
    a = _parser().parse_args(argv)
    rounds = a.rounds if a.rounds is not None else (1 if a.quick else 3)
    duration = a.duration if a.duration is not None else (3.0 if a.quick else 10.0)
    if rounds < 1 or duration <= 0 or a.connections < 1 or a.items < 2:
        raise SystemExit("rounds, duration and connections must be positive; items >= 2")
    return Options(
        rounds=rounds,
        duration_s=duration,
        connections=a.connections,
        timeout_s=a.timeout,
        c256=(not a.quick) if a.c256 is None else a.c256,
        baseline_only=a.baseline_only,
        db=a.db,
        pg=a.pg,
        redis=a.redis,
        cache=a.cache,
        items=a.items,
        seed_concurrency=a.seed_concurrency,
        orderly_command=tuple(shlex.split(a.orderly_command)),
        server_env=_env_pairs(a.server_env),
        only=tuple(n.strip() for n in a.only.split(",") if n.strip()),
        results_dir=a.results_dir,
        strict=a.strict,
    )

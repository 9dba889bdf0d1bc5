"""Start the systems under test: Orderly (production settings) and the two baselines."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import SERVER_CORE, Server, free_port, pinned, run_checked, spawn

UVICORN_FLAGS = (
    "--workers",
    "1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
)
REDIS_URL = "redis://127.0.0.1:6379/0"
# The seeded tenant is on the free plan: 1,000 items are over its 100, and its 120
# requests a minute would answer 429 within a second. The limiter still runs on every
# request (its cost is measured); only its ceilings are out of the way.
PLAN_LIMITS = {"free": {"requests_per_minute": 1_000_000_000, "items": None}}


@dataclass(frozen=True)
class OrderlyConfig:
    """How to run Orderly; one config serves the cache-on and the cache-off process."""

    command: Sequence[str]  # e.g. ("uv", "run", "orderly")
    database_url: str
    postgres: bool
    redis_prefix: str | None  # None = embedded mode (no Redis)
    cache_enabled: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))


def clean_environ() -> dict[str, str]:
    """This process's environment without any APP_* setting leaking in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("APP_")}


def orderly_env(config: OrderlyConfig, cache_enabled: bool) -> dict[str, str]:
    env = clean_environ()
    env.update(
        {
            "APP_ENVIRONMENT": "production",
            "APP_SECRET_KEY": config.secret_key,  # 64 random hex chars
            "APP_LOG_LEVEL": "WARNING",
            "APP_DATABASE_URL": config.database_url,
            "APP_PLAN_LIMITS": json.dumps(PLAN_LIMITS),
        }
    )
    if config.redis_prefix is not None:
        env["APP_REDIS_URL"] = REDIS_URL
        env["APP_REDIS_PREFIX"] = config.redis_prefix
    if not cache_enabled:
        env["APP_CACHE_ENABLED"] = "false"
    env.update(config.extra_env)
    return env


def migrate(config: OrderlyConfig) -> None:
    """`orderly migrate`: serve only migrates by itself in embedded SQLite mode."""
    run_checked(
        [*config.command, "migrate"],
        orderly_env(config, config.cache_enabled),
        "orderly migrate",
    )


def start_orderly(
    name: str,
    config: OrderlyConfig,
    cache_enabled: bool,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Server:
    port = free_port()
    argv = pinned(
        SERVER_CORE,
        [
            *config.command,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
    )
    env = orderly_env(config, cache_enabled) | dict(extra_env or {})
    return spawn(name, argv, env, log_dir / f"{name}.log", port)


def start_baseline(
    name: str, module: str, log_dir: Path, env: Mapping[str, str] | None = None
) -> Server:
    """A baseline app under uvicorn with the flags Orderly's serve is meant to use."""
    port = free_port()
    argv = pinned(
        SERVER_CORE,
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"bench.{module}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_FLAGS,
        ],
    )
    return spawn(name, argv, clean_environ() | dict(env or {}), log_dir / f"{name}.log", port)

"""Orchestration: start the servers, seed, run the phases, collect peak RSS, clean up."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.cpu import CpuMeter, tree
from bench.options import Options
from bench.out import say, warn
from bench.pgcluster import SHARED, PgServer, PrivateCluster, postmaster_pid
from bench.procs import PeakRss, Server, peak_rss, stop, wait_ready
from bench.runner import Runner
from bench.scenarios import Scenario, System, scenarios
from bench.seed import Principal, discover, seed_orderly
from bench.servers import (
    REDIS_URL,
    OrderlyConfig,
    migrate,
    start_baseline,
    start_orderly,
)
from bench.stores import (
    create_database,
    data_directory,
    delete_redis_prefix,
    drop_database,
    new_database_name,
)


@dataclass
class Run:
    opts: Options
    stack: ExitStack
    log_dir: Path
    runner: Runner
    rss: dict[str, PeakRss | None] = field(default_factory=dict)
    pg: PgServer | None = None
    pg_dsn: str | None = None  # the run's Orderly database, for the pgraw baseline


def _quietly(what: str, action: Callable[[], object]) -> None:
    """For cleanup steps: a failure is reported, and the rest of the cleanup goes on."""
    try:
        action()
    except Exception as exc:  # cleanup must not mask the run's result
        warn(f"{what} failed: {exc}")


def launch(run: Run, server: Server, ready_path: str) -> Server:
    run.stack.callback(stop, server)
    wait_ready(server, ready_path)
    say(f"{server.name} ready on {server.base_url} (log: {server.log_path})")
    return server


def selected(opts: Options, phase: str) -> list[Scenario]:
    return [
        s
        for s in scenarios(opts.connections)
        if s.phase == phase and (not opts.only or s.name in opts.only)
    ]


def run_phase(run: Run, chosen: list[Scenario], systems: Mapping[str, System]) -> None:
    run.runner.rounds(chosen, systems, run.opts.rounds)
    if run.opts.c256:
        run.runner.c256(chosen, systems)


def start_baselines(run: Run) -> dict[str, System]:
    fastapi = launch(
        run, start_baseline("fastapi", "baseline_fastapi", run.log_dir), "/health/live"
    )
    raw = launch(run, start_baseline("raw", "baseline_raw", run.log_dir), "/health/live")
    return {
        "fastapi": System("fastapi", "bare FastAPI", fastapi, discover(fastapi.base_url, {})),
        "raw": System("raw", "raw ASGI", raw),
    }


def baseline_only(run: Run, baselines: dict[str, System]) -> None:
    run_phase(run, selected(run.opts, "main"), baselines)
    run.rss["fastapi (bare FastAPI)"] = peak_rss(baselines["fastapi"].server)


def postgres(run: Run) -> PgServer:
    """The run's PostgreSQL (its own pinned cluster unless --pg shared), with the
    runner measuring the CPU time of its processes."""
    if run.opts.pg == "private":
        cluster = PrivateCluster()
        pg = cluster.start()
        run.stack.callback(_quietly, "stopping the private PostgreSQL", cluster.stop)
        say(f"private PostgreSQL cluster on port {pg.port}, pinned to the server's core")
        data = cluster.data
    else:
        pg = SHARED
        data = Path(data_directory(pg))
    try:
        postmaster = postmaster_pid(data)
    except OSError as exc:
        warn(f"database CPU not measured (cannot read postmaster.pid: {exc})")
    else:
        run.runner.db_meter = CpuMeter(lambda: tree(postmaster))
    return pg


def orderly_config(run: Run) -> OrderlyConfig:
    opts = run.opts
    if opts.db == "postgres":
        pg = postgres(run)
        run.pg = pg
        name = new_database_name()
        create_database(pg, name)
        run.stack.callback(_quietly, f"dropping database {name}", lambda: drop_database(pg, name))
        say(f"created PostgreSQL database {name}")
        url = pg.app_url(name)
        run.pg_dsn = pg.dsn(name)
    else:
        tmp = run.stack.enter_context(tempfile.TemporaryDirectory(prefix="orderly-bench-"))
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    prefix = f"bench{secrets.token_hex(4)}:" if opts.redis else None
    if prefix is not None:
        run.stack.callback(
            _quietly, "Redis cleanup", lambda: delete_redis_prefix(REDIS_URL, prefix)
        )
    return OrderlyConfig(
        command=opts.orderly_command,
        database_url=url,
        postgres=opts.db == "postgres",
        redis_prefix=prefix,
        cache_enabled=opts.cache == "on",
        extra_env=opts.server_env,
    )


def orderly_system(server: Server, principal: Principal) -> System:
    return System(
        "orderly",
        "Orderly" if server.name == "orderly" else "Orderly (cache off)",
        server,
        discover(server.base_url, {"X-API-Key": principal.api_key}),
        api_key=principal.api_key,
        principal=principal,
        login_form=(principal.email, principal.password),
    )


def _orderly_phase(
    run: Run,
    config: OrderlyConfig,
    name: str,
    cache: bool,
    body: Callable[[Server], None],
    extra_env: Mapping[str, str] | None = None,
) -> None:
    """Start one Orderly process, run body against it, read its peak RSS, stop it."""
    started = start_orderly(name, config, cache, run.log_dir, extra_env)
    server = launch(run, started, "/health/ready")
    body(server)
    run.rss[name] = peak_rss(server)
    stop(server)


def orderly(run: Run, baselines: dict[str, System]) -> None:
    config = orderly_config(run)
    if config.postgres:
        migrate(config)
        say("orderly migrate: done")
    principals: list[Principal] = []

    def main_phase(server: Server) -> None:
        started = time.monotonic()
        principals.append(seed_orderly(server.base_url, run.opts.items, run.opts.seed_concurrency))
        say(f"seeded {run.opts.items} items in {time.monotonic() - started:.1f} s")
        systems = {**baselines, "orderly": orderly_system(server, principals[0])}
        run_phase(run, selected(run.opts, "main"), systems)

    def nocache_phase(server: Server) -> None:
        systems = {**baselines, "orderly": orderly_system(server, principals[0])}
        if run.pg_dsn is not None:
            env = {"BENCH_PG_DSN": run.pg_dsn}
            pgraw = start_baseline("pgraw", "baseline_pg", run.log_dir, env)
            launch(run, pgraw, "/health/live")
            systems["pgraw"] = System("pgraw", "raw ASGI + asyncpg", pgraw)
        run_phase(run, selected(run.opts, "nocache"), systems)

    def nolimits_phase(server: Server) -> None:
        systems = {**baselines, "orderly": orderly_system(server, principals[0])}
        run_phase(run, selected(run.opts, "nolimits"), systems)

    _orderly_phase(run, config, "orderly", config.cache_enabled, main_phase)
    if selected(run.opts, "nolimits"):
        # Same database, rate limiting off: the limiter's cost, and the login storm.
        off = {"APP_RATE_LIMIT_ENABLED": "false"}
        _orderly_phase(run, config, "orderly-nolimits", config.cache_enabled, nolimits_phase, off)
    if selected(run.opts, "nocache"):
        # Same database, a second process: APP_CACHE_ENABLED=false needs a restart.
        _orderly_phase(run, config, "orderly-nocache", False, nocache_phase)

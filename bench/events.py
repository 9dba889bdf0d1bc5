"""``uv run python -m bench.events``: the events-out budgets (see bench/README.md).

Order creation is measured with and without what listens to it, on one Orderly
process and in one run, as interleaved A/B rounds of wrk (the same ``orders_create``
load as the main harness):

- ``webhooks``: tenant A has no webhook endpoint, tenant B has one subscribed to
  ``order.*`` pointing at a receiver on loopback (``bench.listeners``). Budget: B's
  order rate ≥ 0.9 x A's (delivery work is off the request path). Then orders are
  placed on B at a fixed rate (open loop, ``--rate``, 100/s) and the receiver's
  arrival lag (arrival - the event's ``created_at``) must have p99 ≤ 1 s.
- ``sse``: tenant A's orders with no SSE client, then with ``--sse-clients`` (200)
  streams open on ``/api/v1/events/stream``. Budget: ≥ 0.85x; the p99 lag to the SSE
  clients at ``--rate`` ≤ 250 ms.

Scale-out by default: PostgreSQL + Redis, the API on core 0, `orderly worker`, the
receiver, the SSE clients and wrk on core 1. ``--embedded``: SQLite, no Redis, jobs in
the API process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench import wrk
from bench.cpu import CpuMeter, tree
from bench.out import say, warn
from bench.pgcluster import SHARED, PgServer, PrivateCluster, postmaster_pid
from bench.procs import (
    LOAD_CORE,
    REPO_ROOT,
    BenchError,
    Server,
    free_port,
    group_pids,
    pinned,
    spawn,
    stop,
    wait_ready,
)
from bench.seed import expect, login
from bench.servers import (
    REDIS_URL,
    OrderlyConfig,
    clean_environ,
    migrate,
    orderly_env,
    start_orderly,
)
from bench.stores import (
    create_database,
    delete_redis_prefix,
    drop_database,
    new_database_name,
)

API = "/api/v1"
SCOPES = ["read:items", "write:items", "read:orders", "write:orders", "manage:webhooks"]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# The limiter still runs on every request; only its ceiling is out of the way.
PLAN_LIMITS = {"free": {"requests_per_minute": 1_000_000_000, "webhook_endpoints": 10}}
LAG_GRACE_SECONDS = 3.0  # after the last 201, for the last events to reach the crowd
BUDGETS = {"webhooks": (0.90, 1000.0), "sse": (0.85, 250.0)}  # (ratio, p99 lag ms)


@dataclass
class Tenant:
    name: str
    api_key: str
    hot_item_id: str

    @property
    def order_body(self) -> str:
        return json.dumps({"lines": [{"item_id": self.hot_item_id, "quantity": 1}]})


@dataclass
class Result:
    scenario: str
    without: list[float] = field(default_factory=list)  # req/s per round
    with_: list[float] = field(default_factory=list)
    errors: int = 0
    lags_ms: list[float] = field(default_factory=list)
    lag_sent: int = 0
    notes: list[str] = field(default_factory=list)
    # CPU ms per order, per process ("api", "worker", "postgres"), one dict per round.
    cpu_without: list[dict[str, float]] = field(default_factory=list)
    cpu_with: list[dict[str, float]] = field(default_factory=list)
    # SSE: arrival - the creator's read of the 201 (a lower bound of commit -> client).
    lags_from_201_ms: list[float] = field(default_factory=list)
    listener_cpu_pct: list[list[float]] = field(default_factory=list)  # per crowd process

    @property
    def ratio(self) -> float:
        base = statistics.median(self.without) if self.without else 0.0
        return statistics.median(self.with_) / base if base else 0.0

    @property
    def p99_ms(self) -> float:
        if not self.lags_ms:
            return float("inf")
        ordered = sorted(self.lags_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def passed(self) -> bool:
        ratio_min, p99_max = BUDGETS[self.scenario]
        return self.errors == 0 and self.ratio >= ratio_min and self.p99_ms <= p99_max


@dataclass
class Meters:
    """CPU time of each side, read from /proc (bench/cpu.py): the API process group,
    the worker's, and the database's tree (None when the postmaster is not known)."""

    meters: dict[str, CpuMeter] = field(default_factory=dict)

    def add(self, name: str, meter: CpuMeter) -> None:
        self.meters[name] = meter

    def start(self) -> None:
        for meter in self.meters.values():
            meter.start()

    def per_order(self, orders: int) -> dict[str, float]:
        """CPU ms per order of each side since start()."""
        spent = {name: meter.stop() for name, meter in self.meters.items()}
        return {name: ms / max(orders, 1) for name, ms in spent.items()}


def _cpu_line(cpu: dict[str, float]) -> str:
    return "  ".join(f"{name} {ms:.2f}" for name, ms in cpu.items())


def seed_tenant(base_url: str, name: str, hook_url: str | None) -> Tenant:
    tag = secrets.token_hex(4)
    email, password = f"events-{tag}@example.com", secrets.token_urlsafe(18)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        body = {
            "tenant_name": f"Events {name} {tag}",
            "email": email,
            "password": password,
            "full_name": "Bench Runner",
        }
        expect(client.post(f"{API}/auth/register", json=body), 201, "register")
        token, _ = login(client, email, password)
        owner = {"Authorization": f"Bearer {token}"}
        key_body = {"name": f"events-{tag}", "scopes": SCOPES}
        resp = client.post(f"{API}/api-keys", json=key_body, headers=owner)
        api_key = str(expect(resp, 201, "POST /api-keys").json()["key"])
        item = {"sku": "EVENTS-HOT", "name": "Hot", "price": "1.00", "currency": "USD"}
        resp = client.post(f"{API}/items", json=item | {"stock": 100_000_000}, headers=owner)
        hot = str(expect(resp, 201, "POST /items").json()["id"])
        if hook_url is not None:
            hook = {"url": hook_url, "event_types": ["order.*"]}
            expect(client.post(f"{API}/webhooks", json=hook, headers=owner), 201, "webhooks")
    return Tenant(name, api_key, hot)


def orders_wrk(wrk_path: str, base_url: str, tenant: Tenant, seconds: float) -> wrk.WrkResult:
    spec = wrk.WrkSpec(
        url=f"{base_url}{API}/orders",
        script="orders_create.lua",
        connections=64,
        duration_s=seconds,
        timeout_s=2.0,
        env={"BENCH_API_KEY": tenant.api_key, "BENCH_ORDER_BODY": tenant.order_body},
    )
    result = wrk.run(wrk_path, spec)
    say(
        f"  orders {tenant.name:<6} {result.rps:>7,.0f} req/s  p99 {result.p99_ms:7.2f} ms"
        f"  errors {result.error_total}"
    )
    return result


async def _open_loop(
    base_url: str, tenant: Tenant, rate: float, seconds: float, answered: dict[str, float]
) -> int:
    """Orders at a fixed rate whatever the answers' latency; returns the 201 count and
    fills ``answered`` with order id -> ``time.time()`` when its 201 was read."""
    headers = {"X-API-Key": tenant.api_key, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=256)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:

        async def one() -> bool:
            try:
                resp = await client.post(
                    f"{API}/orders", content=tenant.order_body, headers=headers
                )
            except httpx.HTTPError:
                return False  # counted as missing: fewer 201s than orders sent
            if resp.status_code != 201:
                return False
            answered[str(resp.json()["id"])] = time.time()
            return True

        start, tasks = time.monotonic(), []
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        return sum(await asyncio.gather(*tasks))


def open_loop(
    base_url: str,
    tenant: Tenant,
    rate: float,
    seconds: float,
    answered: dict[str, float] | None = None,
) -> int:
    return asyncio.run(
        _open_loop(base_url, tenant, rate, seconds, {} if answered is None else answered)
    )


def receiver_stats(receiver: Server) -> dict[str, Any]:
    with httpx.Client(base_url=receiver.base_url, timeout=10) as client:
        return dict(client.get("/stats").json())


def drain(receiver: Server, expected: int, timeout_s: float = 120.0) -> int:
    """Wait until the receiver has every event; returns how many it has."""
    deadline, count = time.monotonic() + timeout_s, 0
    while time.monotonic() < deadline:
        count = int(receiver_stats(receiver)["count"])
        if count >= expected:
            break
        time.sleep(0.2)
    return count


def reset(receiver: Server) -> None:
    with httpx.Client(base_url=receiver.base_url, timeout=10) as client:
        client.post("/reset")


WARM_UP_ORDERS = 5


def warm_up(api: Server, receiver: Server, hooked: Tenant) -> None:
    """A few deliveries end to end before anything is measured: `orderly worker` takes
    tens of seconds to import the app on a loaded machine, and its start-up is not
    delivery work (nor is a backlog it would find once up)."""
    headers = {"X-API-Key": hooked.api_key, "Content-Type": "application/json"}
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        for _ in range(WARM_UP_ORDERS):
            resp = client.post(f"{API}/orders", content=hooked.order_body, headers=headers)
            expect(resp, 201, "warm-up order")
    got = drain(receiver, WARM_UP_ORDERS, 180)
    if got < WARM_UP_ORDERS:
        raise BenchError(f"warm-up: {got}/{WARM_UP_ORDERS} deliveries in 180 s")
    reset(receiver)


SETTLE_SECONDS = 1.0  # after a run: the relay's last passes count in that run's CPU


def webhooks(
    opts: argparse.Namespace,
    wrk_path: str,
    api: Server,
    receiver: Server,
    plain: Tenant,
    hooked: Tenant,
    meters: Meters,
) -> Result:
    """CPU per order counts from the start of wrk to the end of the drain (the deliveries
    of a run's orders are that run's work, whenever they are sent), plus a settle."""
    result = Result("webhooks")
    warm_up(api, receiver, hooked)
    for number in range(1, opts.rounds + 1):
        say(f"webhooks round {number}")
        meters.start()
        run = orders_wrk(wrk_path, api.base_url, plain, opts.duration)
        time.sleep(SETTLE_SECONDS)
        result.without.append(_counted(result, run))
        result.cpu_without.append(meters.per_order(run.requests))
        say(f"  cpu ms/order without: {_cpu_line(result.cpu_without[-1])}")
        reset(receiver)
        meters.start()
        run = orders_wrk(wrk_path, api.base_url, hooked, opts.duration)
        result.with_.append(_counted(result, run))
        started = time.monotonic()
        got = drain(receiver, int(run.requests * 0.99))
        drained = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        result.cpu_with.append(meters.per_order(run.requests))
        say(f"  cpu ms/order with:    {_cpu_line(result.cpu_with[-1])}")
        result.notes.append(f"round {number}: {got} deliveries drained in {drained:.1f} s")
    reset(receiver)
    result.lag_sent = open_loop(api.base_url, hooked, opts.rate, opts.lag_seconds)
    result.errors += int(opts.rate * opts.lag_seconds) - result.lag_sent
    got = drain(receiver, result.lag_sent, 30)
    result.lags_ms = list(receiver_stats(receiver)["lags_ms"])
    p50 = statistics.median(result.lags_ms) if result.lags_ms else float("inf")
    result.notes.append(
        f"lag phase: {result.lag_sent} orders at {opts.rate:g}/s, {got} delivered, "
        f"p50 {p50:,.0f} ms"
    )
    return result


def _counted(result: Result, run: wrk.WrkResult) -> float:
    result.errors += run.error_total
    return run.rps


def _crowd(
    opts: argparse.Namespace,
    api: Server,
    tenant: Tenant,
    seconds: float,
    out: Path,
    *,
    record: bool = False,
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """``--sse-procs`` processes of ``bench.sse_crowd`` sharing ``--sse-clients``, all
    pinned to the load core (like wrk); returns once every client has its 200."""
    crowd = []
    for index in range(opts.sse_procs):
        clients = opts.sse_clients // opts.sse_procs + (
            1 if index < opts.sse_clients % opts.sse_procs else 0
        )
        part = out.with_suffix(f".{index}.json")
        argv = pinned(
            LOAD_CORE,
            [
                sys.executable, "-m", "bench.sse_crowd",
                "--base-url", api.base_url, "--api-key", tenant.api_key,
                "--clients", str(clients), "--seconds", str(seconds), "--out", str(part),
                *(["--record"] if record else []),
            ],
        )  # fmt: skip
        crowd.append((subprocess.Popen(argv, cwd=REPO_ROOT), part))  # noqa: S603 - our argv
    deadline = time.monotonic() + 90
    for proc, part in crowd:
        while not Path(f"{part}.ready").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                for other, _ in crowd:
                    other.kill()
                raise BenchError(f"the SSE clients did not all connect (exit {proc.returncode})")
            time.sleep(0.1)
    return crowd


def _crowd_result(crowd: list[tuple[subprocess.Popen[bytes], Path]]) -> dict[str, Any]:
    """Stop the crowd; the processes' results together: counts summed, CPU per process
    kept."""
    for proc, _ in crowd:
        proc.terminate()  # ends its listening window; it writes its results
    merged: dict[str, Any] = {"connected": 0, "frames": 0, "cpu_pct": [], "events": {}}
    for proc, part in crowd:
        proc.wait(timeout=120)
        seen = json.loads(part.read_text())
        merged["connected"] += seen["connected"]
        merged["frames"] += seen["frames"]
        merged["cpu_pct"].append(round(100 * seen["cpu_s"] / seen["seconds"], 1))
        for seq, (created, order_id, arrivals) in seen["events"].items():
            merged["events"].setdefault(seq, [created, order_id, []])[2].extend(arrivals)
    return merged


def _metered(result: Result, api: Server, run: Callable[[], wrk.WrkResult], with_: bool) -> None:
    meter = CpuMeter(lambda: group_pids(api.proc.pid))
    meter.start()
    done = run()
    cpu = meter.stop()
    (result.with_ if with_ else result.without).append(_counted(result, done))
    per_order = cpu / done.requests if done.requests else float("nan")
    (result.cpu_with if with_ else result.cpu_without).append({"api": per_order})
    say(f"  server CPU {per_order:.2f} ms/order")


def sse(opts: argparse.Namespace, wrk_path: str, api: Server, tenant: Tenant, tmp: Path) -> Result:
    result = Result("sse")
    load = partial(orders_wrk, wrk_path, api.base_url, tenant, opts.duration)
    for number in range(1, opts.rounds + 1):
        say(f"sse round {number}")
        _metered(result, api, load, with_=False)
        crowd = _crowd(opts, api, tenant, opts.duration + 2, tmp / f"sse-{number}")
        _metered(result, api, load, with_=True)
        seen = _crowd_result(crowd)
        result.listener_cpu_pct.append(seen["cpu_pct"])
        result.notes.append(
            f"round {number}: {seen['connected']} clients, {seen['frames']} events received, "
            f"crowd CPU % per process {seen['cpu_pct']}"
        )
    crowd = _crowd(opts, api, tenant, opts.lag_seconds + 120, tmp / "sse-lag", record=True)
    answered: dict[str, float] = {}
    meter = CpuMeter(lambda: group_pids(api.proc.pid))
    meter.start()
    result.lag_sent = open_loop(api.base_url, tenant, opts.rate, opts.lag_seconds, answered)
    # The open loop ends with its last 201; its events may still be on their way.
    time.sleep(LAG_GRACE_SECONDS)
    lag_cpu = meter.stop()
    seen = _crowd_result(crowd)
    result.listener_cpu_pct.append(seen["cpu_pct"])
    received = 0
    for created, order_id, arrivals in seen["events"].values():
        if order_id not in answered:
            continue  # not one of the lag phase's orders
        received += len(arrivals)
        result.lags_ms += [(t - created) * 1000 for t in arrivals]
        result.lags_from_201_ms += [(t - answered[order_id]) * 1000 for t in arrivals]
    expected = result.lag_sent * opts.sse_clients
    result.notes.append(
        f"lag phase: {result.lag_sent} orders x {opts.sse_clients} clients, "
        f"{received}/{expected} received; p50/p99 lag from created_at "
        f"{_pct(result.lags_ms, 0.5):.0f}/{_pct(result.lags_ms, 0.99):.0f} ms, from the 201 "
        f"{_pct(result.lags_from_201_ms, 0.5):.0f}/{_pct(result.lags_from_201_ms, 0.99):.0f} ms; "
        f"crowd CPU % per process {seen['cpu_pct']}; server CPU "
        f"{lag_cpu / max(1, result.lag_sent):.2f} ms/order at {opts.rate:g}/s"
    )
    if received < expected:
        result.errors += expected - received
    return result


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def markdown(results: Sequence[Result], title: str) -> str:
    lines = [
        f"## {title}", "",
        "| scenario | orders req/s without | with | ratio | budget | p99 lag ms | budget "
        "| errors | result |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]  # fmt: skip
    for r in results:
        ratio_min, p99_max = BUDGETS[r.scenario]
        lines.append(
            f"| {r.scenario} | {statistics.median(r.without):,.0f} "
            f"| {statistics.median(r.with_):,.0f} "
            f"| {r.ratio:.3f}x | ≥ {ratio_min} | {r.p99_ms:,.0f} | ≤ {p99_max:g} | {r.errors} "
            f"| {'PASS' if r.passed() else '**FAIL**'} |"
        )
    for r in results:
        lines += ["", f"{r.scenario}: " + "; ".join(r.notes)]
    cpu = [r for r in results if r.cpu_without and r.cpu_with]
    if cpu:
        lines += [
            "", "CPU ms per order (median of the rounds; with = through the drain)", "",
            "| scenario | process | without | with | with - without |", "|---|---|--:|--:|--:|",
        ]  # fmt: skip
        for r in cpu:
            for name in r.cpu_with[0]:
                a = statistics.median(c.get(name, 0.0) for c in r.cpu_without)
                b = statistics.median(c.get(name, 0.0) for c in r.cpu_with)
                lines.append(f"| {r.scenario} | {name} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--rate", type=float, default=100.0, help="orders/s of the lag phase")
    p.add_argument("--lag-seconds", type=float, default=10.0)
    p.add_argument("--sse-clients", type=int, default=200)
    p.add_argument("--sse-procs", type=int, default=4, help="processes the clients share")
    p.add_argument("--only", default="webhooks,sse")
    p.add_argument("--embedded", action="store_true", help="SQLite, no Redis, jobs in-process")
    p.add_argument(
        "--pg",
        choices=("shared", "private"),
        default="shared",
        help="private: a cluster of the run's own pinned to the API's core (bench/pgcluster"
        ".py), so its CPU per order is the run's alone; shared: the machine's, unpinned",
    )
    p.add_argument("--orderly-command", default="uv run orderly")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra APP_* setting for the server (repeatable), e.g. APP_LIVE_COALESCE_MS=50",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return p.parse_args(argv)


def _postgres(opts: argparse.Namespace, stack: ExitStack, meters: Meters) -> PgServer:
    if opts.pg == "shared":
        return SHARED  # other databases' backends share its tree: CPU not measured
    cluster = PrivateCluster()
    pg = cluster.start()
    stack.callback(cluster.stop)
    if pg.data_dir is not None:
        postmaster = postmaster_pid(pg.data_dir)
        meters.add("postgres", CpuMeter(lambda: tree(postmaster)))
    say(f"private PostgreSQL cluster on port {pg.port}, pinned to the API's core")
    return pg


def _config(opts: argparse.Namespace, stack: ExitStack, meters: Meters) -> OrderlyConfig:
    env = {
        # Production takes https webhook URLs only, and the receiver is plain http on
        # loopback; the A/B pairs run on this one server, so the ratios stay fair.
        "APP_ENVIRONMENT": "development",
        "APP_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "APP_PLAN_LIMITS": json.dumps(PLAN_LIMITS),
    }
    for pair in opts.server_env:
        key, sep, value = pair.partition("=")
        if not sep:
            raise BenchError(f"--server-env takes KEY=VALUE, got {pair!r}")
        env[key] = value
    if opts.embedded:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="orderly-events-"))
        url, prefix = f"sqlite+aiosqlite:///{tmp}/bench.db", None
    else:
        pg = _postgres(opts, stack, meters)
        name = new_database_name()
        create_database(pg, name)
        stack.callback(drop_database, pg, name)
        url, prefix = pg.app_url(name), f"bench{secrets.token_hex(4)}:"
        stack.callback(delete_redis_prefix, REDIS_URL, prefix)
        env["APP_WORKER_IN_PROCESS"] = "false"
    return OrderlyConfig(
        command=tuple(opts.orderly_command.split()),
        database_url=url,
        postgres=not opts.embedded,
        redis_prefix=prefix,
        extra_env=env,
    )


def _start(stack: ExitStack, server: Server, path: str) -> Server:
    stack.callback(stop, server)
    wait_ready(server, path)
    say(f"{server.name} ready on {server.base_url} (log: {server.log_path})")
    return server


def execute(opts: argparse.Namespace, log_dir: Path) -> list[Result]:
    wrk_path = wrk.ensure_wrk()
    chosen = set(opts.only.split(","))
    results: list[Result] = []
    meters = Meters()
    with ExitStack() as stack:
        config = _config(opts, stack, meters)
        if config.postgres:
            migrate(config)
        api = _start(stack, start_orderly("orderly", config, True, log_dir), "/health/ready")
        api_pid = api.proc.pid
        meters.add("api", CpuMeter(lambda: group_pids(api_pid)))
        if not opts.embedded:
            argv = pinned(LOAD_CORE, [*config.command, "worker"])
            worker = spawn("worker", argv, orderly_env(config, True), log_dir / "worker.log", 0)
            stack.callback(stop, worker)
            worker_pid = worker.proc.pid
            meters.add("worker", CpuMeter(lambda: group_pids(worker_pid)))
        port = free_port()
        argv = pinned(
            LOAD_CORE, [sys.executable, "-m", "bench.listeners", "receiver", "--port", str(port)]
        )
        receiver = _start(
            stack,
            spawn("receiver", argv, clean_environ(), log_dir / "receiver.log", port),
            "/health/live",
        )
        plain = seed_tenant(api.base_url, "plain", None)
        if "webhooks" in chosen:
            hooked = seed_tenant(api.base_url, "hooked", f"{receiver.base_url}/hook")
            results.append(webhooks(opts, wrk_path, api, receiver, plain, hooked, meters))
        if "sse" in chosen:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="orderly-sse-")))
            results.append(sse(opts, wrk_path, api, plain, tmp))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    log_dir = opts.results_dir / f"{stamp}-events-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        results = execute(opts, log_dir)
    except BenchError as exc:
        warn(str(exc))
        return 1
    mode = (
        "embedded (SQLite, jobs in-process)"
        if opts.embedded
        else "PostgreSQL + Redis + orderly worker"
    )
    title = f"Events bench — {opts.rounds} round(s) x {opts.duration:g} s, {mode}"
    say("")
    say(markdown(results, title))
    document = {
        "options": {k: str(v) for k, v in vars(opts).items()},
        "results": [
            vars(r) | {"ratio": r.ratio, "p99_ms": r.p99_ms, "pass": r.passed()} for r in results
        ],
    }
    path = opts.results_dir / f"{stamp}-events.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    say(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drive the scenarios: interleaved rounds (A/B/A/B), the c256 pass, stock checks."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench import wrk
from bench.cpu import CpuMeter
from bench.out import say
from bench.procs import BenchError, group_pids
from bench.scenarios import Load, Scenario, System
from bench.seed import fresh_token, read_stock

BASELINE_TOKEN = "baseline-token"  # noqa: S105 - a fake; the baselines check nothing
C256 = 256
_SETTLE_S = 1.0  # lets requests still in flight when wrk stops finish on the server


@dataclass(frozen=True)
class StockCheck:
    """The hot item's stock around one orders run, against the 201s wrk counted."""

    before: int
    after: int
    created: int  # 201 answers wrk received
    in_flight: int  # requests sent whose answer wrk never read

    @property
    def taken(self) -> int:
        return self.before - self.after

    @property
    def consistent(self) -> bool:
        return self.created <= self.taken <= self.created + self.in_flight

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "taken": self.taken, "consistent": self.consistent}


@dataclass
class Sample:
    scenario: str
    system: str
    round: int  # 1-based; 0 = the c256 pass
    connections: int
    result: wrk.WrkResult
    companion: wrk.WrkResult | None = None
    stock: StockCheck | None = None
    # CPU time per request (ms) of the server's processes and of the database's.
    server_cpu_ms: float | None = None
    db_cpu_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "system": self.system,
            "round": self.round,
            "connections": self.connections,
            "result": self.result.to_json(),
            "companion": self.companion.to_json() if self.companion else None,
            "stock": self.stock.to_json() if self.stock else None,
            "server_cpu_ms_per_request": self.server_cpu_ms,
            "db_cpu_ms_per_request": self.db_cpu_ms,
        }


@dataclass(frozen=True)
class RunSettings:
    duration_s: float
    timeout_s: float


class Runner:
    def __init__(self, wrk_path: str, settings: RunSettings) -> None:
        self.wrk_path = wrk_path
        self.settings = settings
        self.samples: list[Sample] = []
        self._preflighted: set[tuple[str, str, str]] = set()
        # The database's processes (postmaster and backends), once there is one.
        self.db_meter: CpuMeter | None = None

    def rounds(
        self, scenarios: Iterable[Scenario], systems: Mapping[str, System], count: int
    ) -> None:
        """Round-major, and within a scenario its systems in order: A/B/A/B."""
        chosen = list(scenarios)
        for number in range(1, count + 1):
            for scenario in chosen:
                for name in scenario.systems:
                    if name in systems:
                        self.run(scenario, systems[name], number, 1.0)

    def c256(self, scenarios: Iterable[Scenario], systems: Mapping[str, System]) -> None:
        """Every scenario once at 256 connections in all (a storm keeps its 1:3 mix).

        The baselines run it too, as a control: on these VMs even bare FastAPI can
        show a few socket timeouts at 256 connections, which tells a platform hiccup
        apart from a stall of Orderly's own.
        """
        for scenario in scenarios:
            if not scenario.in_c256:
                continue
            total = scenario.load.connections + (
                scenario.companion.connections if scenario.companion else 0
            )
            for name in scenario.systems:
                if name in systems:
                    self.run(scenario, systems[name], 0, C256 / total)

    def run(self, scenario: Scenario, system: System, number: int, factor: float) -> None:
        load = scenario.load.scaled(factor)
        companion = scenario.companion.scaled(factor) if scenario.companion else None
        token = self._token(system, load)
        env = system.lua_env(token)
        for each in (load, companion):
            if each is not None:
                self._preflight(scenario, system, each, token, env)
        before = self._stock(system) if scenario.stock_check else None
        server_meter = CpuMeter(lambda: group_pids(system.server.proc.pid))
        meters = [m for m in (server_meter, self.db_meter) if m is not None]
        for meter in meters:
            meter.start()
        result, extra = self._drive(system, load, companion, env)
        spent = [meter.stop() for meter in meters]
        stock = None
        if before is not None:
            time.sleep(_SETTLE_S)
            stock = StockCheck(
                before,
                self._stock(system),
                result.counters.get("created", 0),
                result.counters.get("sent", 0) - result.counters.get("responses", 0),
            )
        sample = Sample(scenario.name, system.name, number, load.connections, result, extra, stock)
        served = max(result.requests + (extra.requests if extra else 0), 1)
        sample.server_cpu_ms = spent[0] / served
        if self.db_meter is not None:
            sample.db_cpu_ms = spent[1] / served
        self.samples.append(sample)
        say(progress_line(sample))

    def _drive(
        self, system: System, load: Load, companion: Load | None, env: dict[str, str]
    ) -> tuple[wrk.WrkResult, wrk.WrkResult | None]:
        specs = [self._spec(system, each, env) for each in (load, companion) if each]
        procs: list[subprocess.Popen[str]] = []
        try:
            procs = [wrk.start(self.wrk_path, spec) for spec in specs]
            results = [wrk.finish(p, s) for p, s in zip(procs, specs, strict=True)]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return results[0], (results[1] if len(results) > 1 else None)

    def _spec(self, system: System, load: Load, env: dict[str, str]) -> wrk.WrkSpec:
        return wrk.WrkSpec(
            url=system.url(load),
            script=load.script,
            connections=load.connections,
            duration_s=self.settings.duration_s,
            timeout_s=self.settings.timeout_s,
            env=env,
        )

    def _token(self, system: System, load: Load) -> str:
        if system.principal is None:
            return BASELINE_TOKEN
        if load.auth != "jwt":
            return system.principal.access_token
        with httpx.Client(base_url=system.server.base_url, timeout=30) as client:
            return fresh_token(client, system.principal)

    def _stock(self, system: System) -> int:
        if system.targets is None:
            raise BenchError(f"{system.name}: no hot item to check the stock of")
        headers = {"X-API-Key": system.api_key}
        with httpx.Client(base_url=system.server.base_url, timeout=30) as client:
            return read_stock(client, headers, system.targets.hot_item_id)

    def _preflight(
        self,
        scenario: Scenario,
        system: System,
        load: Load,
        token: str,
        env: Mapping[str, str],
    ) -> None:
        """One request as the Lua script sends it: catches a wrong setup before a run."""
        key = (scenario.name, system.name, load.script)
        if key in self._preflighted:
            return
        body = env.get(load.body_env, "") if load.body_env else None
        resp = httpx.request(
            load.method,
            system.url(load),
            headers=system.headers(load, token),
            content=body,
            timeout=30,
        )
        if resp.status_code != load.expect_status:
            raise BenchError(
                f"{scenario.name} on {system.label}: {load.method} {load.path} answered "
                f"{resp.status_code}, expected {load.expect_status}: {resp.text[:500]}"
            )
        self._preflighted.add(key)


def progress_line(sample: Sample) -> str:
    r = sample.result
    when = "c256" if sample.round == 0 else f"r{sample.round}"
    line = (
        f"  [{when}] {sample.scenario:<19} {sample.system:<8} c{sample.connections:<4}"
        f" {r.rps:>9,.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
        f"  errors {r.error_total}"
    )
    if sample.server_cpu_ms is not None:
        line += f"  cpu/req {sample.server_cpu_ms:.3f} ms"
    if sample.db_cpu_ms is not None:
        line += f" + db {sample.db_cpu_ms:.3f} ms"
    if sample.companion is not None:
        c = sample.companion
        line += f"  | login {c.rps:,.1f} req/s, p99 {c.p99_ms:.0f} ms, errors {c.error_total}"
    if sample.stock is not None:
        s = sample.stock
        verdict = "ok" if s.consistent else "MISMATCH"
        line += f"  | stock -{s.taken} vs {s.created} x 201 (+<={s.in_flight}) {verdict}"
    return line

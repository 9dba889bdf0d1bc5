"""Summaries (medians over rounds), the issue-5 budget verdicts, Markdown and JSON."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.procs import PeakRss
from bench.runner import Sample

RATIO_MIN = {
    "items_list_apikey": 0.45,
    "items_list_jwt": 0.45,
    "items_list_nocache": 0.15,
    "item_get_304": 0.5,
    "orders_create": 0.08,
}
STORM_P99_MAX = 2.0
LIMITS_ON_MIN = 0.80  # the cached list with rate limits on, x itself with them off
RSS_MAX_MB = 150.0


@dataclass
class Summary:
    scenario: str
    system: str
    connections: int
    runs: int
    rps: float  # medians over the runs
    p50_ms: float
    p99_ms: float
    errors: int  # summed over the runs
    timeouts: int
    stalled: bool
    companion_rps: float | None = None
    companion_p99_ms: float | None = None
    companion_errors: int | None = None
    stock_ok: bool | None = None
    ratio_fastapi: float | None = None
    ratio_raw: float | None = None
    ratio_pgraw: float | None = None  # x the physical limit of an uncached page
    limits_on_ratio: float | None = None  # items with limits on / this (limits off)
    server_cpu_ms: float | None = None  # medians of CPU ms per request
    db_cpu_ms: float | None = None
    budget: str = "—"
    verdict: bool | None = None


def _median(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.median(items) if items else 0.0


def summarize(samples: Sequence[Sample]) -> Summary:
    first = samples[0]
    results = [s.result for s in samples]
    companions = [s.companion for s in samples if s.companion is not None]
    stocks = [s.stock for s in samples if s.stock is not None]
    summary = Summary(
        scenario=first.scenario,
        system=first.system,
        connections=first.connections,
        runs=len(samples),
        rps=_median(r.rps for r in results),
        p50_ms=_median(r.p50_ms for r in results),
        p99_ms=_median(r.p99_ms for r in results),
        errors=sum(r.error_total for r in results),
        timeouts=sum(r.errors.get("timeout", 0) for r in results + companions),
        stalled=any(r.stalled for r in results + companions),
        stock_ok=all(s.consistent for s in stocks) if stocks else None,
    )
    server_cpu = [s.server_cpu_ms for s in samples if s.server_cpu_ms is not None]
    db_cpu = [s.db_cpu_ms for s in samples if s.db_cpu_ms is not None]
    summary.server_cpu_ms = _median(server_cpu) if server_cpu else None
    summary.db_cpu_ms = _median(db_cpu) if db_cpu else None
    if companions:
        summary.companion_rps = _median(c.rps for c in companions)
        summary.companion_p99_ms = _median(c.p99_ms for c in companions)
        summary.companion_errors = sum(c.error_total for c in companions)
    return summary


def group(samples: Iterable[Sample]) -> list[Summary]:
    """One summary per (scenario, system), in the order they first ran."""
    groups: dict[tuple[str, str], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.scenario, sample.system), []).append(sample)
    return [summarize(members) for members in groups.values()]


@dataclass
class Report:
    title: str
    subject: str  # the system the budget is checked on
    fastapi_items_rps: float
    raw_items_rps: float
    rows: list[Summary]
    c256: list[Summary]
    rss: dict[str, PeakRss | None]

    def verdicts(self) -> list[bool]:
        found = [r.verdict for r in self.rows + self.c256 if r.verdict is not None]
        return found + [_rss_ok(p) for p in self.rss.values()]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "subject": self.subject,
            "fastapi_items_rps": self.fastapi_items_rps,
            "raw_items_rps": self.raw_items_rps,
            "rows": [asdict(r) for r in self.rows],
            "c256": [asdict(r) for r in self.c256],
            "rss": {k: (asdict(v) if v else None) for k, v in self.rss.items()},
            "passed": all(self.verdicts()),
        }


def _rss_ok(peak: PeakRss | None) -> bool:
    return peak is not None and peak.peak_mb <= RSS_MAX_MB


def _ratio(value: float, base: float) -> float | None:
    return value / base if base > 0 else None


def _apply_budget(row: Summary, alone_p99: Mapping[str, float]) -> None:
    if row.scenario in RATIO_MIN:
        need = RATIO_MIN[row.scenario]
        row.budget = f"≥ {need}x FastAPI /items, 0 errors"
        ok = row.ratio_fastapi is not None and row.ratio_fastapi >= need
        if row.scenario == "orders_create":
            row.budget += ", stock consistent"
            ok = ok and bool(row.stock_ok)
        row.verdict = ok and row.errors == 0
    elif row.scenario == "login_storm":
        alone = alone_p99.get(row.system)
        row.budget = f"items p99 ≤ {STORM_P99_MAX:g}x alone, 0 errors"
        row.verdict = alone is not None and row.p99_ms <= STORM_P99_MAX * alone and row.errors == 0


def _limiter_budget(rows: Sequence[Summary], subject: str) -> None:
    """Issue 15: with limits on, the cached list keeps >= 0.80x its own rate with them off."""
    on = next((r for r in rows if r.scenario == "items_list_apikey" and r.system == subject), None)
    off = next(
        (r for r in rows if r.scenario == "items_list_nolimits" and r.system == subject), None
    )
    if on is None or off is None or off.rps <= 0:
        return
    off.budget = f"items_list_apikey (limits on) ≥ {LIMITS_ON_MIN}x this"
    off.verdict = on.rps >= LIMITS_ON_MIN * off.rps and on.errors == 0 and off.errors == 0
    off.limits_on_ratio = on.rps / off.rps


def build(
    title: str,
    subject: str,
    samples: Sequence[Sample],
    items_baseline: set[str],
    rss: dict[str, PeakRss | None],
) -> Report:
    measured = [s for s in samples if s.round > 0]
    fastapi_items = _median(
        s.result.rps for s in measured if s.system == "fastapi" and s.scenario in items_baseline
    )
    raw_items = _median(s.result.rps for s in measured if s.system == "raw")
    pgraw_items = _median(s.result.rps for s in measured if s.system == "pgraw")
    rows = group(measured)
    alone = {r.system: r.p99_ms for r in rows if r.scenario == "items_list_c48"}
    for row in rows:
        row.ratio_fastapi = _ratio(row.rps, fastapi_items)
        row.ratio_raw = _ratio(row.rps, raw_items)
        if row.scenario == "items_list_nocache" and row.system == subject:
            row.ratio_pgraw = _ratio(row.rps, pgraw_items)
        if row.system == subject:
            _apply_budget(row, alone)
    _limiter_budget(rows, subject)
    c256 = group(s for s in samples if s.round == 0)
    for row in c256:
        if row.system == subject:
            row.budget = "no error, no stall"
            row.verdict = row.errors == 0 and not row.stalled and not row.companion_errors
        else:
            row.budget = "control"
    return Report(title, subject, fastapi_items, raw_items, rows, c256, rss)


def _mark(verdict: bool | None) -> str:
    return "—" if verdict is None else ("PASS" if verdict else "**FAIL**")


def _rps(value: float) -> str:
    return f"{value:,.0f} req/s" if value > 0 else "not measured"


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.3f}x"


def _notes(row: Summary, alone_p99: Mapping[str, float]) -> str:
    notes = []
    if row.companion_rps is not None:
        notes.append(
            f"login {row.companion_rps:,.1f} req/s, p99 {row.companion_p99_ms:,.0f} ms, "
            f"{row.companion_errors} errors"
        )
        if row.system in alone_p99 and alone_p99[row.system] > 0:
            notes.append(f"p99 {row.p99_ms / alone_p99[row.system]:.2f}x alone")
    if row.stock_ok is not None:
        notes.append("stock consistent" if row.stock_ok else "STOCK MISMATCH")
    if row.timeouts:
        notes.append(f"{row.timeouts} timeouts")
    if row.limits_on_ratio is not None:
        notes.append(f"limits on: {row.limits_on_ratio:.3f}x this")
    if row.ratio_pgraw is not None:
        notes.append(f"{row.ratio_pgraw:.3f}x the physical limit (raw ASGI + asyncpg)")
    return "; ".join(notes)


def _cpu(row: Summary) -> str:
    if row.server_cpu_ms is None:
        return "—"
    db = f" + {row.db_cpu_ms:.3f}" if row.db_cpu_ms is not None else ""
    return f"{row.server_cpu_ms:.3f}{db}"


def markdown(report: Report) -> str:
    alone = {r.system: r.p99_ms for r in report.rows if r.scenario == "items_list_c48"}
    lines = [
        f"## {report.title}",
        "",
        f"Bare FastAPI `/items`: **{_rps(report.fastapi_items_rps)}**; "
        f"raw ASGI `/items`: **{_rps(report.raw_items_rps)}** "
        f"(medians). Budget checked on: `{report.subject}`.",
        "",
        "| scenario | system | conns | req/s | p50 ms | p99 ms | errors "
        "| x FastAPI /items | x raw /items | CPU ms/req (server + db) | budget | result "
        "| notes |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for r in report.rows:
        lines.append(
            f"| {r.scenario} | {r.system} | {r.connections} | {r.rps:,.0f} "
            f"| {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {_x(r.ratio_fastapi)} "
            f"| {_x(r.ratio_raw)} | {_cpu(r)} | {r.budget} | {_mark(r.verdict)} "
            f"| {_notes(r, alone)} |"
        )
    lines += _c256_lines(report.c256) + _rss_lines(report.rss)
    verdicts = report.verdicts()
    lines += ["", f"**{sum(verdicts)}/{len(verdicts)} budget checks pass.**"]
    return "\n".join(lines)


def _c256_lines(rows: Sequence[Summary]) -> list[str]:
    if not rows:
        return ["", "c256 pass: not run."]
    lines = [
        "",
        "### Every scenario once at 256 connections",
        "",
        "| scenario | system | conns | req/s | p99 ms | errors | timeouts | budget | result "
        "| notes |",
        "|---|---|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.system} | {r.connections} | {r.rps:,.0f} "
            f"| {r.p99_ms:.2f} | {r.errors} | {r.timeouts} | {r.budget} | {_mark(r.verdict)} "
            f"| {_notes(r, {})} |"
        )
    return lines


def _rss_lines(rss: Mapping[str, PeakRss | None]) -> list[str]:
    lines = [
        "",
        "### Peak RSS (VmHWM of the serving process, read before it was stopped)",
        "",
        "| server | pid | peak RSS MB | budget | result |",
        "|---|--:|--:|---|---|",
    ]
    for label, peak in rss.items():
        pid = str(peak.pid) if peak else "?"
        size = f"{peak.peak_mb:.1f}" if peak else "unknown"
        lines.append(
            f"| {label} | {pid} | {size} | ≤ {RSS_MAX_MB:g} MB | {_mark(_rss_ok(peak))} |"
        )
    return lines

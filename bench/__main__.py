"""``uv run python -m bench``: see bench/README.md."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import harness, meta, report
from bench.options import Options, parse
from bench.out import say, warn
from bench.procs import BenchError
from bench.runner import Runner, RunSettings
from bench.scenarios import scenarios
from bench.wrk import ensure_wrk, wrk_version


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server is stopped and the database dropped."""
    del frame
    raise SystemExit(128 + signum)


def _title(opts: Options) -> str:
    shape = f"{opts.rounds} round(s) x {opts.duration_s:g} s, wrk -t1 -c{opts.connections}"
    if opts.baseline_only:
        return f"Baseline self-check — {shape}"
    store = opts.db + (" + Redis" if opts.redis else "")
    return f"Orderly benchmark — {shape}, {store}, cache {opts.cache}, 1 worker"


def execute(opts: Options, stamp: str) -> tuple[report.Report, dict[str, Any]]:
    wrk_path = ensure_wrk()
    info = meta.collect(wrk_version(wrk_path))
    log_dir = opts.results_dir / f"{stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(wrk_path, RunSettings(opts.duration_s, opts.timeout_s))
    with ExitStack() as stack:
        run = harness.Run(opts, stack, log_dir, runner)
        baselines = harness.start_baselines(run)
        if opts.baseline_only:
            harness.baseline_only(run, baselines)
        else:
            harness.orderly(run, baselines)
    items_baseline = {s.name for s in scenarios(opts.connections) if s.items_baseline}
    subject = "fastapi" if opts.baseline_only else "orderly"
    built = report.build(_title(opts), subject, runner.samples, items_baseline, run.rss)
    document = {
        "meta": info,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
        "report": built.to_json(),
        "samples": [s.to_json() for s in runner.samples],
    }
    return built, document


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    unknown = set(opts.only) - {s.name for s in scenarios(opts.connections)}
    if unknown:
        warn(f"unknown scenario(s) in --only: {', '.join(sorted(unknown))}")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    try:
        built, document = execute(opts, stamp)
    except BenchError as exc:
        warn(str(exc))
        return 1
    except KeyboardInterrupt:
        warn("interrupted; cleaned up")
        return 130
    say("")
    say(report.markdown(built))
    path = opts.results_dir / f"{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    say(f"\nJSON: {path}")
    return 3 if opts.strict and not all(built.verdicts()) else 0


if __name__ == "__main__":
    sys.exit(main())

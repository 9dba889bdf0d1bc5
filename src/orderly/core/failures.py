"""Counting work that failed without failing a request.

Best-effort work (a cache lookup, an invalidation after a commit, an after-commit
action) is allowed to fail: the request is answered with what the database says, and
the failure is counted here by kind, for the metrics endpoint to expose, and logged.
The log is throttled per kind: during a Redis outage every request would otherwise
add a line.
"""

from __future__ import annotations

import time
from collections import Counter

import structlog

from orderly.core.container import Key

logger = structlog.get_logger("orderly.failures")

LOG_INTERVAL_SECONDS = 10.0


class FailureCounts:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}

    def record(self, kind: str, error: BaseException, **context: str) -> None:
        """Count one failure of ``kind``; log it unless one was logged recently.

        ``context`` must hold nothing secret: it is logged as given. The error is
        logged by type only, since driver messages can quote keys or parameters.
        """
        self.counts[kind] += 1
        now = time.monotonic()
        if now - self._logged_at.get(kind, -LOG_INTERVAL_SECONDS) >= LOG_INTERVAL_SECONDS:
            self._logged_at[kind] = now
            logger.warning(
                "best_effort_work_failed",
                kind=kind,
                error=type(error).__name__,
                failures_so_far=self.counts[kind],
                **context,
            )

    def count(self, kind: str) -> None:
        """Count one failure of ``kind`` that the caller has logged itself (a failed
        job, whose traceback is worth a line of its own)."""
        self.counts[kind] += 1


FAILURES: Key[FailureCounts] = Key("failures")

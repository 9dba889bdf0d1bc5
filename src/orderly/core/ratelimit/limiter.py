"""``RateLimiter``: one hit against a quota, and what it says.

A check that cannot reach its store fails open: the request is served as if it were
unlimited, the failure is counted and logged (``core.failures``, kind ``rate_limit``),
and for ``PAUSE_SECONDS`` afterwards this process does not ask the store again, so an
outage costs at most one request per second the store's timeout instead of every
request. A limit protects the service; it must never be the reason it fails.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from orderly.core.container import Key
from orderly.core.failures import FailureCounts
from orderly.core.identity import Principal
from orderly.core.ratelimit.counters import MemoryWindowCounter, WindowCounter

PAUSE_SECONDS = 1.0
FAILURE_KIND = "rate_limit"


class Quota:
    """``limit`` hits per ``window_seconds``, under a policy ``name`` that the headers
    show (``"principal"``, ``"login-ip"``...). Its ``RateLimit-Policy`` member is built
    once: quotas are made at start-up, checks happen per request."""

    __slots__ = ("limit", "name", "policy", "policy_field", "state_prefix", "window_seconds")

    def __init__(self, name: str, limit: int, window_seconds: int = 60) -> None:
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        # draft-ietf-httpapi-ratelimit-headers-10: a String item with q (quota) and
        # w (window, seconds) parameters.
        self.policy = f'"{name}";q={limit};w={window_seconds}'
        self.policy_field = self.policy.encode("latin-1")
        self.state_prefix = f'"{name}";r='

    def __repr__(self) -> str:
        return f"Quota({self.policy})"


class Verdict:
    """One hit's outcome: the count in the current window and the seconds until it ends."""

    __slots__ = ("count", "quota", "reset_seconds")

    def __init__(self, quota: Quota, count: int, reset_seconds: int) -> None:
        self.quota = quota
        self.count = count
        self.reset_seconds = reset_seconds

    @property
    def allowed(self) -> bool:
        return self.count <= self.quota.limit

    @property
    def remaining(self) -> int:
        return max(0, self.quota.limit - self.count)

    @property
    def state(self) -> str:
        """The ``RateLimit`` member: r (remaining quota), t (seconds to the reset)."""
        return f"{self.quota.state_prefix}{self.remaining};t={self.reset_seconds}"


class RateLimiter:
    def __init__(
        self,
        counter: WindowCounter,
        *,
        failures: FailureCounts,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = enabled
        self._counter = counter
        # The in-process counter is called without a coroutine of its own (hot path).
        self._local = counter if isinstance(counter, MemoryWindowCounter) else None
        self._failures = failures
        self.clock = clock  # wall-clock seconds: windows are aligned to it
        self._paused_until = 0.0

    async def hit(self, quota: Quota, key: str) -> Verdict | None:
        """Count a hit of ``key`` against ``quota``; None when limits are off or the
        store failed (fail open)."""
        if not self.enabled:
            return None
        now = self.clock()
        seconds = quota.window_seconds
        window = int(now // seconds)
        reset = max(1, math.ceil((window + 1) * seconds - now))
        local = self._local
        if local is not None:
            return Verdict(quota, local.hit_now(key, window, seconds), reset)
        if time.monotonic() < self._paused_until:
            return None
        try:
            count = await self._counter.hit(key, window, seconds)
        except Exception as exc:  # any store failure: fail open, never a 5xx
            self._paused_until = time.monotonic() + PAUSE_SECONDS
            self._failures.record(FAILURE_KIND, exc, quota=quota.name)
            return None
        return Verdict(quota, count, reset)


RATE_LIMITER: Key[RateLimiter] = Key("rate_limiter")


class PrincipalLimits(Protocol):
    async def admit(self, principal: Principal) -> Verdict | None:
        """Count one request of ``principal`` against its plan's quota."""
        ...


# The per-principal quota, applied by ``core.access.get_principal`` once a request's
# principal is known; provided by the domain that knows plans (tenants).
PRINCIPAL_LIMITS: Key[PrincipalLimits] = Key("access.principal_limits")

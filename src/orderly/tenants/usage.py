"""How many of each counted thing a tenant holds, measured by the domain that owns it.

Tenants cannot import items, API keys or webhooks (they import tenants: a cycle), so
each of those registers its meter here from its ``resources.provide``::

    container[USAGE_METERS].register("items", count_live_items)

A meter runs in the caller's transaction, so a count taken after the plan lock
(``PlanGate.check_count``) sees every committed row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.container import Key
from orderly.tenants.plans import COUNT_LIMITS, CountLimit

Meter = Callable[[AsyncSession, str], Awaitable[int]]


class UsageMeters:
    def __init__(self) -> None:
        self._meters: dict[CountLimit, Meter] = {}

    def register(self, limit: CountLimit, meter: Meter) -> None:
        if limit in self._meters:
            raise ValueError(f"a meter for {limit} is registered twice")
        self._meters[limit] = meter

    def meter(self, limit: CountLimit) -> Meter | None:
        return self._meters.get(limit)

    async def usage(self, session: AsyncSession, tenant_id: str) -> dict[CountLimit, int]:
        """Every counted limit; 0 for one whose domain is not installed."""
        usage: dict[CountLimit, int] = {}
        for limit in COUNT_LIMITS:
            meter = self._meters.get(limit)
            usage[limit] = 0 if meter is None else await meter(session, tenant_id)
        return usage


USAGE_METERS: Key[UsageMeters] = Key("tenants.usage_meters")

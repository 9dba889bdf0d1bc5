"""What tenants adds to the container: the plans' limits, the usage meters other
domains register, the gate that enforces both, and the per-principal rate limit."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.ratelimit import PRINCIPAL_LIMITS, RATE_LIMITER
from orderly.tenants.directory import PlanDirectory, PlanRateLimits
from orderly.tenants.gate import PLAN_GATE, PlanGate
from orderly.tenants.plans import PLAN_TABLE, PlanTable
from orderly.tenants.usage import USAGE_METERS, UsageMeters


async def provide(container: Container, settings: Settings) -> None:
    table = container.add(PLAN_TABLE, PlanTable(settings.plan_limits))
    meters = container.add(USAGE_METERS, UsageMeters())
    container.add(PLAN_GATE, PlanGate(table, meters))
    limits = PlanRateLimits(container[RATE_LIMITER], PlanDirectory(container), table)
    container.add(PRINCIPAL_LIMITS, limits)

"""The per-principal rate limit: each request counted against its tenant's plan.

The plan is not in the credentials (an access token outlives a plan change, an API key
names only its tenant), so it is looked up per tenant and kept in-process for
``CACHE_TTL_SECONDS``. A plan change evicts it in every process once committed
(``InvalidationBus`` topic ``PLAN_TOPIC``); the TTL bounds what a lost message leaves.
The hot path is a dict look-up and the limiter's hit: the database is read once per
tenant per TTL and process.
"""

from __future__ import annotations

from orderly.core.cache import INVALIDATION_BUS, LocalCache
from orderly.core.container import Container
from orderly.core.identity import Plan, Principal
from orderly.core.ratelimit import RateLimiter, Verdict
from orderly.core.singleflight import SingleFlight
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.plans import PlanTable
from orderly.tenants.repository import TenantRepository

CACHE_TTL_SECONDS = 30.0
CACHE_ENTRIES = 10_000
PLAN_TOPIC = "tenant-plan"  # InvalidationBus topic; payload: the tenant id


class PlanDirectory:
    def __init__(self, container: Container) -> None:
        self._container = container
        self._cache: LocalCache[Plan] = LocalCache(
            max_entries=CACHE_ENTRIES, ttl_seconds=CACHE_TTL_SECONDS
        )
        self._lookups: SingleFlight[str, Plan] = SingleFlight()
        self._evictions = 0
        container[INVALIDATION_BUS].subscribe(PLAN_TOPIC, self.evict)

    def evict(self, tenant_id: str) -> None:
        self._evictions += 1
        self._cache.discard(tenant_id)

    def cached(self, tenant_id: str) -> Plan | None:
        """The plan when this process knows it: no coroutine on the hot path."""
        return self._cache.get(tenant_id)

    async def plan_of(self, tenant_id: str) -> Plan:
        plan = self._cache.get(tenant_id)
        if plan is None:
            plan = await self._lookups.run(tenant_id, lambda: self._load(tenant_id))
        return plan

    async def _load(self, tenant_id: str) -> Plan:
        evictions = self._evictions
        async with unit_of_work(self._container, write=False) as uow:
            plan = await TenantRepository(uow.session).plan_of(tenant_id)
        plan = plan or Plan.FREE  # a principal's tenant exists; the strictest if not
        if self._evictions == evictions:  # else the plan may have changed meanwhile
            self._cache.set(tenant_id, plan)
        return plan


class PlanRateLimits:
    """``core.ratelimit.PRINCIPAL_LIMITS``: requests per minute per user or API key."""

    def __init__(self, limiter: RateLimiter, plans: PlanDirectory, table: PlanTable) -> None:
        self._limiter = limiter
        self._plans = plans
        self._table = table

    async def admit(self, principal: Principal) -> Verdict | None:
        if not self._limiter.enabled:
            return None
        tenant_id = principal.tenant_id
        plan = self._plans.cached(tenant_id) or await self._plans.plan_of(tenant_id)
        quota = self._table.quota(plan)
        if quota is None:
            return None
        # Users and API keys have distinct id prefixes: one namespace is enough.
        return await self._limiter.hit(quota, f"p:{principal.id}")

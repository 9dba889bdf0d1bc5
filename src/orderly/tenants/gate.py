"""``PlanGate``: the one place where a plan says no.

Counts (items, API keys, webhook endpoints) are checked in the creating transaction,
before the insert, under a lock on the tenant's row (``plan_for_update``)::

    await container[PLAN_GATE].check_count(uow, "webhook_endpoints")
    ... insert the endpoint; the unit of work commits and releases the lock ...

Race-free: two creations at the limit cannot both pass. On PostgreSQL the second one
waits on ``SELECT ... FOR NO KEY UPDATE`` of the tenant row until the first committed,
then counts the first one's row (READ COMMITTED takes a fresh snapshot per
statement). On SQLite every writer holds the database's write lock from BEGIN
IMMEDIATE, so the count and the insert of one creation are never interleaved with
another's. Features are checked with ``require_feature(uow, "exports")``.
"""

from __future__ import annotations

from orderly.core.container import Key
from orderly.core.identity import Plan
from orderly.core.unit_of_work import UnitOfWork
from orderly.tenants.exceptions import (
    PlanLimitReachedError,
    PlanUpgradeRequiredError,
    TenantNotFoundError,
)
from orderly.tenants.plans import CountLimit, Feature, PlanTable
from orderly.tenants.repository import TenantRepository
from orderly.tenants.usage import Meter, UsageMeters


class PlanGate:
    def __init__(self, table: PlanTable, meters: UsageMeters) -> None:
        self.table = table
        self.meters = meters

    async def check_count(
        self,
        uow: UnitOfWork,
        limit: CountLimit,
        count: Meter | None = None,
        *,
        tenant_id: str | None = None,
        adding: int = 1,
    ) -> None:
        """Raise 402 ``PLAN_LIMIT_REACHED`` unless the tenant may add ``adding`` more of
        ``limit``. ``count`` defaults to the meter registered for ``limit``. Call it in
        the transaction that inserts, before inserting."""
        tenant = tenant_id or uow.principal.tenant_id
        plan = await TenantRepository(uow.session).plan_for_update(tenant)
        if plan is None:
            raise TenantNotFoundError(tenant)
        maximum = self.table.limits(plan).maximum(limit)
        if maximum is None:
            return
        meter = count or self.meters.meter(limit)
        if meter is None:
            raise LookupError(f"no usage meter is registered for {limit}")
        if await meter(uow.session, tenant) + adding > maximum:
            raise PlanLimitReachedError(plan.value, limit, maximum)

    async def require_feature(
        self, uow: UnitOfWork, feature: Feature, *, tenant_id: str | None = None
    ) -> Plan:
        """The tenant's plan, or 402 ``PLAN_UPGRADE_REQUIRED`` when it lacks ``feature``."""
        tenant = tenant_id or uow.principal.tenant_id
        plan = await TenantRepository(uow.session).plan_of(tenant)
        if plan is None:
            raise TenantNotFoundError(tenant)
        if not self.table.limits(plan).allows(feature):
            raise PlanUpgradeRequiredError(plan.value, feature)
        return plan


PLAN_GATE: Key[PlanGate] = Key("tenants.plan_gate")

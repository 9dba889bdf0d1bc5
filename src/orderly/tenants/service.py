"""Tenants: created at sign-up (or by the CLI), found by slug or id; the caller's own
tenant read, renamed and moved to another plan."""

from __future__ import annotations

import re
import secrets

from orderly.core.cache import INVALIDATION_BUS
from orderly.core.container import Container
from orderly.core.database import new_id
from orderly.core.identity import Plan
from orderly.core.unit_of_work import UnitOfWork
from orderly.events.types import EventType
from orderly.tenants.directory import PLAN_TOPIC
from orderly.tenants.exceptions import TenantNotFoundError
from orderly.tenants.models import Tenant
from orderly.tenants.plans import PLAN_TABLE
from orderly.tenants.repository import TenantRepository
from orderly.tenants.schemas import (
    PlanChange,
    PlanChanged,
    TenantDetails,
    TenantLimits,
    TenantRead,
    TenantUpdate,
    TenantUsage,
)
from orderly.tenants.usage import USAGE_METERS

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")[:40].strip("-")
    return slug or "tenant"


class TenantService:
    """No principal needed: a tenant is created before anyone can act in it."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.repo = TenantRepository(uow.session)

    async def create(self, name: str, plan: Plan = Plan.FREE) -> Tenant:
        """A new tenant with a unique, readable slug (``acme``, then ``acme-3f9k``...)."""
        base = slugify(name)
        slug = base
        while True:
            if not await self.repo.slug_exists(slug):
                tenant = Tenant(id=new_id("ten"), slug=slug, name=name, plan=plan)
                if await self.repo.add(tenant) is not None:
                    return tenant
            slug = f"{base}-{secrets.token_hex(2)}"

    async def find(self, slug_or_id: str) -> Tenant | None:
        return await self.repo.get_by_slug(slug_or_id) or await self.repo.get(slug_or_id)


class TenantAccountService:
    """The caller's own tenant: its plan, limits and usage; renamed and re-planned by
    its owner (the role guard is the route's, ``tenants.dependencies``)."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.tenant_id = uow.principal.tenant_id
        self.repo = TenantRepository(uow.session)
        self.table = parts[PLAN_TABLE]
        self.meters = parts[USAGE_METERS]
        self.bus = parts[INVALIDATION_BUS]

    async def details(self) -> TenantDetails:
        tenant = await self._tenant(lock=False)
        return await self._details(tenant)

    async def rename(self, data: TenantUpdate) -> TenantDetails:
        tenant = await self._tenant(lock=True)
        tenant.name = data.name
        await self.uow.session.flush()
        return await self._details(tenant)

    async def change_plan(self, data: PlanChange) -> TenantDetails:
        """Changing to the current plan changes nothing and records no event. A lower
        plan is allowed below what the tenant holds: nothing is deleted, only further
        creations are refused until usage falls under the new limits."""
        tenant = await self._tenant(lock=True)
        previous = tenant.plan
        if data.plan != previous:
            tenant.plan = data.plan
            await self.uow.session.flush()
            await self.uow.record_event(
                EventType.TENANT_PLAN_CHANGED,
                tenant_id=tenant.id,
                subject_id=tenant.id,
                payload=PlanChanged(id=tenant.id, plan=data.plan, previous_plan=previous),
            )
            tenant_id = tenant.id
            # Every process forgets the old plan once the new one is committed.
            self.uow.after_commit(
                lambda: self.bus.publish(PLAN_TOPIC, tenant_id), name="evict_tenant_plan"
            )
        return await self._details(tenant)

    async def _tenant(self, *, lock: bool) -> Tenant:
        tenant = await (
            self.repo.get_for_update(self.tenant_id) if lock else self.repo.get(self.tenant_id)
        )
        if tenant is None:
            raise TenantNotFoundError(self.tenant_id)
        return tenant

    async def _details(self, tenant: Tenant) -> TenantDetails:
        usage = await self.meters.usage(self.uow.session, tenant.id)
        limits = self.table.limits(tenant.plan)
        return TenantDetails(
            **TenantRead.model_validate(tenant).model_dump(),
            limits=TenantLimits.model_validate(limits, from_attributes=True),
            usage=TenantUsage(
                items=usage["items"],
                api_keys=usage["api_keys"],
                webhook_endpoints=usage["webhook_endpoints"],
            ),
        )

"""Tenants are the root of isolation: looked up by id or slug, never listed to clients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.identity import Plan
from orderly.tenants.models import Tenant


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def get_by_slug(self, slug: str) -> Tenant | None:
        result = await self.session.execute(select(Tenant).where(Tenant.slug == slug))
        return result.scalar_one_or_none()

    async def slug_exists(self, slug: str) -> bool:
        result = await self.session.execute(select(Tenant.id).where(Tenant.slug == slug))
        return result.first() is not None

    async def add(self, tenant: Tenant) -> Tenant | None:
        """The tenant, or None when a concurrent sign-up took its slug after the caller
        checked it. In a savepoint, so the rest of the transaction survives that."""
        try:
            async with self.session.begin_nested():
                self.session.add(tenant)
        except IntegrityError:
            return None
        return tenant

    async def plan_for_update(self, tenant_id: str) -> Plan | None:
        """The tenant's plan, its row locked until the transaction ends (PostgreSQL;
        SQLite ignores the lock, and its writers are serialized by BEGIN IMMEDIATE).

        Every creation a plan counts (items, API keys, webhook endpoints) takes this
        lock before counting, so two of them cannot both see "one below the limit" and
        both insert: the second waits for the first to commit and then counts its row.
        FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other creations but not the
        FOR KEY SHARE that every insert of a row referencing the tenant takes (an order,
        an outbox event), which FOR UPDATE would hold up until this one commits.
        """
        result = await self.session.execute(
            select(Tenant.plan).where(Tenant.id == tenant_id).with_for_update(key_share=True)
        )
        return result.scalar_one_or_none()

    async def plan_of(self, tenant_id: str) -> Plan | None:
        result = await self.session.execute(select(Tenant.plan).where(Tenant.id == tenant_id))
        return result.scalar_one_or_none()

    async def get_for_update(self, tenant_id: str) -> Tenant | None:
        """The tenant, locked like ``plan_for_update`` (a plan change waits for the
        creations counting against the old plan, and they for it)."""
        return await self.session.get(Tenant, tenant_id, with_for_update={"key_share": True})

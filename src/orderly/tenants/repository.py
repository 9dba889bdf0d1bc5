"""Tenants are the root of isolation: looked up by id or slug, never listed to clients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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

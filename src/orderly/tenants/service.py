from __future__ import annotations

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.database import new_id
from orderly.core.identity import Plan
from orderly.tenants.models import Tenant
from orderly.tenants.repository import TenantRepository

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")[:40].strip("-")
    return slug or "tenant"


async def create_tenant(session: AsyncSession, name: str, plan: Plan = Plan.FREE) -> Tenant:
    """A new tenant with a unique, readable slug (``acme``, then ``acme-3f9k``...)."""
    repo = TenantRepository(session)
    base = slugify(name)
    slug = base
    while True:
        if not await repo.slug_exists(slug):
            tenant = await repo.add(Tenant(id=new_id("ten"), slug=slug, name=name, plan=plan))
            if tenant is not None:
                return tenant
        slug = f"{base}-{secrets.token_hex(2)}"


async def find_tenant(session: AsyncSession, slug_or_id: str) -> Tenant | None:
    repo = TenantRepository(session)
    return await repo.get_by_slug(slug_or_id) or await repo.get(slug_or_id)

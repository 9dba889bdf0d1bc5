"""Tenants: created at sign-up (or by the CLI), found by slug or id."""

from __future__ import annotations

import re
import secrets

from orderly.core.container import Container
from orderly.core.database import new_id
from orderly.core.identity import Plan
from orderly.core.unit_of_work import UnitOfWork
from orderly.tenants.models import Tenant
from orderly.tenants.repository import TenantRepository

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

"""Creating a user outside a request (the `orderly create-user` command)."""

from __future__ import annotations

from orderly.core.container import Container
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.service import TenantService
from orderly.users.schemas import UserCreate
from orderly.users.service import UserAccounts


async def bootstrap_user(
    container: Container, tenant_ref: str, data: UserCreate, *, allow_new_tenant: bool
) -> tuple[str, str]:
    """(user id, tenant id). One unit of work: both are created, or neither."""
    async with unit_of_work(container) as uow:
        tenants = TenantService(uow, container)
        tenant = await tenants.find(tenant_ref)
        if tenant is None:
            if not allow_new_tenant:
                raise LookupError(f"no tenant '{tenant_ref}'; pass --create-tenant to create it")
            tenant = await tenants.create(tenant_ref)
        user = await UserAccounts(uow, container).create_in_tenant(tenant.id, data)
        return user.id, tenant.id

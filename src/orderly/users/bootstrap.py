"""Creating a user outside a request (the `orderly create-user` command)."""

from __future__ import annotations

from orderly.core.container import Container
from orderly.core.database import DATABASE
from orderly.core.passwords import PASSWORDS
from orderly.tenants.service import create_tenant, find_tenant
from orderly.users.schemas import UserCreate
from orderly.users.service import create_user_in_tenant


async def bootstrap_user(
    container: Container, tenant_ref: str, data: UserCreate, *, allow_new_tenant: bool
) -> tuple[str, str]:
    """(user id, tenant id). One transaction: both are created, or neither."""
    async with container[DATABASE].session(write=True) as session:
        tenant = await find_tenant(session, tenant_ref)
        if tenant is None:
            if not allow_new_tenant:
                raise LookupError(f"no tenant '{tenant_ref}'; pass --create-tenant to create it")
            tenant = await create_tenant(session, tenant_ref)
        user = await create_user_in_tenant(session, container[PASSWORDS], tenant.id, data)
        await session.commit()
        return user.id, tenant.id

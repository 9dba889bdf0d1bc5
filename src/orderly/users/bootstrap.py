"""Creating a user outside a request (the `orderly create-user` command)."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.database import Database, create_engine
from orderly.core.passwords import PasswordHasher
from orderly.tenants.service import create_tenant, find_tenant
from orderly.users.schemas import UserCreate
from orderly.users.service import create_user_in_tenant


async def bootstrap_user(
    settings: Settings, tenant_ref: str, data: UserCreate, *, allow_new_tenant: bool
) -> tuple[str, str]:
    """(user id, tenant id). One transaction: both are created, or neither."""
    database = Database(create_engine(settings), is_sqlite=settings.is_sqlite)
    passwords = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        workers=settings.password_hash_workers,
        max_wait_seconds=settings.password_hash_max_wait_seconds,
    )
    try:
        async with database.session(write=True) as session:
            tenant = await find_tenant(session, tenant_ref)
            if tenant is None:
                if not allow_new_tenant:
                    raise LookupError(
                        f"no tenant '{tenant_ref}'; pass --create-tenant to create it"
                    )
                tenant = await create_tenant(session, tenant_ref)
            user = await create_user_in_tenant(session, passwords, tenant.id, data)
            await session.commit()
            return user.id, tenant.id
    finally:
        passwords.close()
        await database.dispose()

"""Users of a tenant: the rules of who may create, change and deactivate whom."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.auth.sessions import RefreshTokens, clear_revocation, revoke_access_tokens
from orderly.core.database import new_id
from orderly.core.identity import Principal, Role
from orderly.core.kvstore import KeyValueStore
from orderly.core.pagination import CursorCodec, Page
from orderly.core.passwords import PasswordHasher
from orderly.users.exceptions import (
    EmailTakenError,
    LastOwnerError,
    OwnerRequiredError,
    UserNotFoundError,
)
from orderly.users.models import User
from orderly.users.repository import UserDirectory, UserRepository
from orderly.users.schemas import UserCreate, UserRead, UserUpdate

CURSOR_KIND = "users"


@dataclass(frozen=True, slots=True)
class UserContext:
    """What the users service needs besides the session and the caller."""

    passwords: PasswordHasher
    cursors: CursorCodec
    kv: KeyValueStore
    access_ttl_seconds: int
    refresh_ttl_seconds: int


async def create_user_in_tenant(
    session: AsyncSession, passwords: PasswordHasher, tenant_id: str, data: UserCreate
) -> User:
    """Also used by registration and the CLI, where there is no caller yet."""
    if await UserDirectory(session).email_in_use(data.email):
        raise EmailTakenError
    user = User(
        id=new_id("usr"),
        email=data.email,
        full_name=data.full_name,
        role=data.role,
        is_active=True,
        password_hash=await passwords.hash(data.password),
    )
    return await UserRepository(session, tenant_id).add(user)


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """For login, before any tenant is known (emails are unique across tenants)."""
    return await UserDirectory(session).find_by_email(email)


async def find_user_by_id(session: AsyncSession, user_id: str) -> User | None:
    """For token refresh; the caller checks the tenant recorded with the token."""
    return await UserDirectory(session).find_by_id(user_id)


class UserService:
    def __init__(self, session: AsyncSession, principal: Principal, ctx: UserContext) -> None:
        self.session = session
        self.principal = principal
        self.ctx = ctx
        self.repo = UserRepository(session, principal.tenant_id)

    async def list(self, *, limit: int, cursor: str | None) -> Page[UserRead]:
        after = self.ctx.cursors.decode(CURSOR_KIND, cursor) if cursor else None
        rows, last = await self.repo.page(self.repo.scoped(), after, limit)
        return Page[UserRead](
            items=[UserRead.model_validate(row) for row in rows],
            next_cursor=self.ctx.cursors.encode(CURSOR_KIND, last) if last else None,
        )

    async def get(self, user_id: str) -> User:
        user = await self.repo.get(user_id)
        if user is None:
            raise UserNotFoundError(user_id)
        return user

    async def me(self) -> User:
        if self.principal.user_id is None:
            raise UserNotFoundError(detail="An API key is not a user.")
        return await self.get(self.principal.user_id)

    async def create(self, data: UserCreate) -> User:
        if data.role is Role.OWNER and self.principal.role is not Role.OWNER:
            raise OwnerRequiredError("create another owner")
        return await create_user_in_tenant(
            self.session, self.ctx.passwords, self.principal.tenant_id, data
        )

    async def update(self, user_id: str, data: UserUpdate) -> User:
        user = await self.get(user_id)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        self._check_may_change(user, changes)
        role_changes = "role" in changes and changes["role"] is not user.role
        deactivates = changes.get("is_active") is False and user.is_active
        if (role_changes or deactivates) and user.role is Role.OWNER:
            await self._keep_an_owner()
        reactivates = changes.get("is_active") is True and not user.is_active
        for field, value in changes.items():
            setattr(user, field, value)
        await self.session.flush()
        if deactivates or role_changes:
            await self._end_sessions(user)
        elif reactivates:
            await clear_revocation(self.ctx.kv, user.id)
        return user

    async def deactivate(self, user_id: str) -> None:
        await self.update(user_id, UserUpdate(is_active=False))

    def _check_may_change(self, user: User, changes: dict[str, object]) -> None:
        if "role" in changes and self.principal.role is not Role.OWNER:
            raise OwnerRequiredError("change roles")
        if user.role is Role.OWNER and self.principal.role is not Role.OWNER:
            raise OwnerRequiredError("change an owner's account")

    async def _keep_an_owner(self) -> None:
        if await self.repo.count_active_owners(lock=True) <= 1:
            raise LastOwnerError

    async def _end_sessions(self, user: User) -> None:
        await RefreshTokens(self.session, self.ctx.refresh_ttl_seconds).revoke_user(user.id)
        await revoke_access_tokens(
            self.ctx.kv,
            user.id,
            access_ttl_seconds=self.ctx.access_ttl_seconds,
        )

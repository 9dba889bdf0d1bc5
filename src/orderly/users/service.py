"""Users of a tenant: the rules of who may create, change and deactivate whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.auth.passwords import PasswordHasher
from orderly.auth.principal import Principal, Role
from orderly.auth.revocations import EndedSessions, SessionRevocations
from orderly.auth.sessions import RefreshTokens
from orderly.core.database import Database, new_id, utcnow
from orderly.core.pagination import CursorCodec, Page
from orderly.core.unit_of_work import after_commit
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
    revocations: SessionRevocations
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


async def sessions_ended_since(database: Database, since: datetime) -> list[EndedSessions]:
    """For ``SessionRevocations`` restoring its markers (any tenant, no caller)."""
    async with database.session(write=False) as session:
        rows = await UserDirectory(session).sessions_ended_since(since)
    return [EndedSessions(user_id, generation, at) for user_id, generation, at in rows]


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
        for field, value in changes.items():
            setattr(user, field, value)
        await self.session.flush()
        # Reactivation ends nothing and revives nothing: tokens revoked stay revoked.
        if deactivates or role_changes:
            await self._end_sessions(user)
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
        """Revoke every token the user holds: the new generation refuses them all; the
        refresh rows are marked too, so listings and clean-up see them as revoked."""
        now = utcnow()
        generation = await self.repo.end_sessions(user, now)
        await RefreshTokens(self.session, self.ctx.refresh_ttl_seconds).revoke_user(user.id)
        ended = EndedSessions(user.id, generation, now)
        # After the commit: published sooner, a rollback would leave the user's new
        # tokens refused (they carry the old generation) for a whole token lifetime.
        after_commit(self.session, lambda: self.ctx.revocations.record(ended))

"""Users of a tenant: the rules of who may create, change and deactivate whom."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.identity import Role
from orderly.core.pagination import CURSORS, Page
from orderly.core.passwords import PASSWORDS
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.sessions.revocations import EndedSessions
from orderly.sessions.service import SessionService
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


class UserAccounts:
    """Accounts before any caller is known: sign-up, login, token refresh, the CLI.

    Emails are unique across tenants (they are the login name); nothing found here is
    returned to a client without a tenant check.
    """

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.session = uow.session
        self.passwords = parts[PASSWORDS]
        self.directory = UserDirectory(uow.session)

    async def create_in_tenant(self, tenant_id: str, data: UserCreate) -> User:
        if await self.directory.email_in_use(data.email):
            raise EmailTakenError
        user = User(
            id=new_id("usr"),
            email=data.email,
            full_name=data.full_name,
            role=data.role,
            is_active=True,
            password_hash=await self.passwords.hash(data.password),
        )
        return await UserRepository(self.session, tenant_id).add(user)

    async def find_by_email(self, email: str) -> User | None:
        return await self.directory.find_by_email(email)

    async def find_by_id(self, user_id: str) -> User | None:
        return await self.directory.find_by_id(user_id)

    async def sessions_ended_since(self, since: datetime) -> list[EndedSessions]:
        """Every user whose sessions ended after ``since`` (any tenant, no caller)."""
        rows = await self.directory.sessions_ended_since(since)
        return [EndedSessions(user_id, generation, at) for user_id, generation, at in rows]


async def sessions_ended_since(container: Container, since: datetime) -> list[EndedSessions]:
    """For ``SessionRevocations`` restoring its markers from the database."""
    async with unit_of_work(container, write=False) as uow:
        return await UserAccounts(uow, container).sessions_ended_since(since)


class UserService:
    """The caller's tenant, as its staff (or a user about themself) sees it."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.session = uow.session
        self.principal = uow.principal
        self.cursors = parts[CURSORS]
        self.accounts = UserAccounts(uow, parts)
        self.sessions = SessionService(uow, parts)
        self.repo = UserRepository(uow.session, self.principal.tenant_id)

    async def list(self, *, limit: int, cursor: str | None) -> Page[UserRead]:
        fetch = partial(self.repo.page, self.repo.scoped())
        rows, next_cursor = await self.cursors.page(CURSOR_KIND, fetch, limit=limit, cursor=cursor)
        return Page[UserRead](
            items=[UserRead.model_validate(row) for row in rows], next_cursor=next_cursor
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
        return await self.accounts.create_in_tenant(self.principal.tenant_id, data)

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
        """Revoke every token the user holds: the new generation refuses them all."""
        now = utcnow()
        generation = await self.repo.end_sessions(user, now)
        await self.sessions.end_all(user.id, generation=generation, at=now)

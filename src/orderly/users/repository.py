from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from orderly.core.identity import Role
from orderly.core.repository import TenantRepository
from orderly.users.exceptions import EmailTakenError
from orderly.users.models import User


class UserRepository(TenantRepository[User]):
    model = User

    async def add(self, row: User) -> User:
        try:
            return await super().add(row)
        except IntegrityError as exc:  # lost a race with a concurrent sign-up
            raise EmailTakenError from exc

    async def count_active_owners(self, *, lock: bool) -> int:
        """Active owners of the tenant. With ``lock``, their rows stay locked until the
        transaction ends (PostgreSQL), so two owners cannot demote each other at once
        and leave the tenant ownerless; SQLite writers are serialized anyway."""
        stmt = self.scoped(User.id).where(User.role == Role.OWNER, User.is_active.is_(True))
        if lock:
            stmt = stmt.with_for_update()
        return len((await self.session.execute(stmt)).all())

    async def end_sessions(self, user: User, at: datetime) -> int:
        """Increment the user's session generation and return the new one. Incremented
        by the database, not read and written back: two concurrent ends of one user's
        sessions get two generations, never the same one twice."""
        stmt = (
            update(User)
            .where(User.tenant_id == self.tenant_id, User.id == user.id)
            .values(session_generation=User.session_generation + 1, sessions_ended_at=at)
            .returning(User.session_generation)
            .execution_options(synchronize_session=False)
        )
        generation: int = (await self.session.execute(stmt)).scalar_one()
        set_committed_value(user, "session_generation", generation)
        set_committed_value(user, "sessions_ended_at", at)
        return generation


class UserDirectory:
    """The only unscoped look-ups of users: by email, for login and for uniqueness.

    Emails are the login name, so they are unique across tenants and found before any
    tenant is known. Nothing here is returned to a client without a tenant check.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def email_in_use(self, email: str) -> bool:
        stmt = select(func.count()).select_from(User).where(User.email == email)
        return bool((await self.session.execute(stmt)).scalar_one())

    async def find_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    async def find_by_id(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def sessions_ended_since(self, since: datetime) -> list[tuple[str, int, datetime]]:
        """(user id, generation, when) of every user whose sessions ended after ``since``."""
        stmt = select(User.id, User.session_generation, User.sessions_ended_at).where(
            User.sessions_ended_at > since
        )
        rows = await self.session.execute(stmt)
        return [(user_id, gen, at) for user_id, gen, at in rows if at is not None]

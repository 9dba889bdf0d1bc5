"""Refresh-token rows. They are the credential themselves, so they are found by hash,
not by tenant; the row then says which tenant and user they belong to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.database import utcnow
from orderly.core.security import hash_token
from orderly.sessions.models import RefreshToken


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: RefreshToken) -> None:
        self.session.add(row)
        await self.session.flush()

    async def find(self, raw: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw))
        )
        return result.scalar_one_or_none()

    async def spend(self, token_id: str) -> bool:
        """Mark the token used, only if it was not: of two concurrent refreshes with one
        token exactly one gets True (a conditional UPDATE, serialized by the row)."""
        spent = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return spent.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    async def revoke_family(self, family_id: str) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def revoke_user(self, user_id: str) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def delete_dead(self, now: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` tokens that can never be accepted again: expired, or
        revoked (their family is revoked already). A spent token that is neither stays
        until it expires: presenting it again is how a theft is detected."""
        dead = (
            select(RefreshToken.id)
            .where(or_(RefreshToken.expires_at <= now, RefreshToken.revoked_at.is_not(None)))
            .limit(limit)
        )
        result = await self.session.execute(
            delete(RefreshToken).where(RefreshToken.id.in_(dead.scalar_subquery()))
        )
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

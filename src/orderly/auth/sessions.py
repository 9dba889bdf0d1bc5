"""Login sessions: refresh-token rotation with reuse detection, and revocation.

Refresh tokens are rows: revoking one is an UPDATE, and using one reads its row. Each
row also records the user's session generation when it was issued; a refresh from an
older generation is refused (see ``auth/revocations.py`` for access tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.auth.exceptions import InvalidRefreshTokenError, RefreshTokenReusedError
from orderly.auth.models import RefreshToken
from orderly.auth.tokens import hash_token, new_refresh_token
from orderly.core.database import new_id, utcnow


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a valid, just-consumed refresh token vouches for."""

    user_id: str
    tenant_id: str
    family_id: str
    generation: int


class RefreshTokens:
    """Refresh tokens are the credential themselves, so they are found by hash, not by
    tenant; the row then says which tenant and user they belong to."""

    def __init__(self, session: AsyncSession, ttl_seconds: int) -> None:
        self.session = session
        self.ttl = timedelta(seconds=ttl_seconds)

    async def issue(
        self, *, user_id: str, tenant_id: str, generation: int, family_id: str | None = None
    ) -> str:
        raw = new_refresh_token()
        self.session.add(
            RefreshToken(
                id=new_id("rtk"),
                tenant_id=tenant_id,
                user_id=user_id,
                family_id=family_id or new_id("fam"),
                session_generation=generation,
                token_hash=hash_token(raw),
                expires_at=utcnow() + self.ttl,
            )
        )
        await self.session.flush()
        return raw

    async def consume(self, raw: str) -> RefreshGrant:
        """Spend a token exactly once. The conditional UPDATE makes two concurrent
        refreshes with one token race safely: one wins, the other counts as reuse."""
        row = await self._find(raw)
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise InvalidRefreshTokenError
        spent = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            await self.revoke_family(row.family_id)
            raise RefreshTokenReusedError
        return RefreshGrant(row.user_id, row.tenant_id, row.family_id, row.session_generation)

    async def revoke(self, raw: str) -> None:
        """Logout: end the session this token belongs to (unknown tokens are ignored)."""
        row = await self._find(raw)
        if row is not None:
            await self.revoke_family(row.family_id)

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

    async def _find(self, raw: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw))
        )
        return result.scalar_one_or_none()

"""Login sessions: refresh-token rotation with reuse detection, and revocation.

Access tokens are verified without a database query, so revoking them needs a signal
every API process can read quickly: a "revoked before" timestamp per user in the
key-value store (Redis in scale-out, memory in embedded mode). Tokens issued before it
are refused; it expires once every such token would have expired anyway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.auth.exceptions import InvalidRefreshTokenError, RefreshTokenReusedError
from orderly.auth.models import RefreshToken
from orderly.auth.tokens import new_refresh_token
from orderly.core.container import Key
from orderly.core.database import new_id, utcnow
from orderly.core.kvstore import KeyValueStore
from orderly.core.security import hash_token


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long the two tokens of a login session live (``APP_*_TOKEN_TTL_SECONDS``)."""

    access_ttl_seconds: int
    refresh_ttl_seconds: int


SESSION_POLICY: Key[SessionPolicy] = Key("sessions.policy")


def revoked_before_key(user_id: str) -> str:
    return f"auth:revoked-before:{user_id}"


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a valid, just-consumed refresh token vouches for."""

    user_id: str
    tenant_id: str
    family_id: str


class RefreshTokens:
    """Refresh tokens are the credential themselves, so they are found by hash, not by
    tenant; the row then says which tenant and user they belong to."""

    def __init__(self, session: AsyncSession, ttl_seconds: int) -> None:
        self.session = session
        self.ttl = timedelta(seconds=ttl_seconds)

    async def issue(self, *, user_id: str, tenant_id: str, family_id: str | None = None) -> str:
        raw = new_refresh_token()
        self.session.add(
            RefreshToken(
                id=new_id("rtk"),
                tenant_id=tenant_id,
                user_id=user_id,
                family_id=family_id or new_id("fam"),
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
        return RefreshGrant(row.user_id, row.tenant_id, row.family_id)

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


async def revoke_access_tokens(
    kv: KeyValueStore, user_id: str, *, access_ttl_seconds: int
) -> None:
    """Refuse the user's access tokens issued until now (``iat`` has ms precision)."""
    cutoff = round(time.time(), 3)
    await kv.set(
        revoked_before_key(user_id), str(cutoff).encode(), ttl_ms=(access_ttl_seconds + 5) * 1000
    )


async def access_revoked(kv: KeyValueStore, user_id: str, issued_at: float) -> bool:
    cutoff = await kv.get(revoked_before_key(user_id))
    return cutoff is not None and issued_at < float(cutoff)


async def clear_revocation(kv: KeyValueStore, user_id: str) -> None:
    await kv.delete(revoked_before_key(user_id))

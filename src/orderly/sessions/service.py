"""Login sessions: refresh-token rotation with reuse detection, and revocation.

Access tokens are verified without a database query, so revoking them needs a signal
every API process can read quickly: a "revoked before" timestamp per user in the
key-value store (Redis in scale-out, memory in embedded mode). Tokens issued before it
are refused; it expires once every such token would have expired anyway.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from orderly.core.container import Container, Key
from orderly.core.database import new_id, utcnow
from orderly.core.kvstore import KV, KeyValueStore
from orderly.core.security import hash_token
from orderly.core.unit_of_work import UnitOfWork
from orderly.sessions.exceptions import InvalidRefreshTokenError, RefreshTokenReusedError
from orderly.sessions.models import RefreshToken
from orderly.sessions.repository import RefreshTokenRepository


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long the two tokens of a login session live (``APP_*_TOKEN_TTL_SECONDS``)."""

    access_ttl_seconds: int
    refresh_ttl_seconds: int


SESSION_POLICY: Key[SessionPolicy] = Key("sessions.policy")


def new_refresh_token() -> str:
    return f"rt_{secrets.token_urlsafe(32)}"


def revoked_before_key(user_id: str) -> str:
    return f"auth:revoked-before:{user_id}"


async def access_revoked(kv: KeyValueStore, user_id: str, issued_at: float) -> bool:
    """Whether an access token of ``user_id`` issued at ``issued_at`` was revoked."""
    cutoff = await kv.get(revoked_before_key(user_id))
    return cutoff is not None and issued_at < float(cutoff)


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a valid, just-consumed refresh token vouches for."""

    user_id: str
    tenant_id: str
    family_id: str


class SessionService:
    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.kv = parts[KV]
        self.policy = parts[SESSION_POLICY]
        self.tokens = RefreshTokenRepository(uow.session)

    async def issue(self, *, user_id: str, tenant_id: str, family_id: str | None = None) -> str:
        """A new refresh token (raw: shown once), in a new session unless ``family_id``."""
        raw = new_refresh_token()
        row = RefreshToken(
            id=new_id("rtk"),
            tenant_id=tenant_id,
            user_id=user_id,
            family_id=family_id or new_id("fam"),
            token_hash=hash_token(raw),
            expires_at=utcnow() + timedelta(seconds=self.policy.refresh_ttl_seconds),
        )
        await self.tokens.add(row)
        return raw

    async def consume(self, raw: str) -> RefreshGrant:
        """Spend a token exactly once; a second use is reuse, and revokes its session."""
        row = await self.tokens.find(raw)
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise InvalidRefreshTokenError
        if not await self.tokens.spend(row.id):
            await self.tokens.revoke_family(row.family_id)
            raise RefreshTokenReusedError
        return RefreshGrant(row.user_id, row.tenant_id, row.family_id)

    async def revoke(self, raw: str) -> None:
        """Logout: end the session this token belongs to (unknown tokens are ignored)."""
        row = await self.tokens.find(raw)
        if row is not None:
            await self.tokens.revoke_family(row.family_id)

    async def end_all(self, user_id: str) -> None:
        """Every session of the user ends: refresh tokens revoked, and access tokens
        issued until now refused (``iat`` has ms precision)."""
        await self.tokens.revoke_user(user_id)
        cutoff = round(time.time(), 3)
        ttl_ms = (self.policy.access_ttl_seconds + 5) * 1000
        await self.kv.set(revoked_before_key(user_id), str(cutoff).encode(), ttl_ms=ttl_ms)

    async def allow_again(self, user_id: str) -> None:
        """A reactivated user may log in again and use new tokens."""
        await self.kv.delete(revoked_before_key(user_id))

"""Login sessions: refresh-token rotation with reuse detection, and the end of a user's
sessions.

Refresh tokens are rows: revoking one is an UPDATE, and using one reads its row. Each
row also records the user's session generation when it was issued; a refresh from an
older generation is refused. Access tokens are refused through the revocation markers
of ``sessions/revocations.py``, published once the end of the sessions has committed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderly.core.container import Container, Key
from orderly.core.database import new_id, utcnow
from orderly.core.security import hash_token
from orderly.core.unit_of_work import UnitOfWork
from orderly.sessions.exceptions import InvalidRefreshTokenError, RefreshTokenReusedError
from orderly.sessions.models import RefreshToken
from orderly.sessions.repository import RefreshTokenRepository
from orderly.sessions.revocations import SESSION_REVOCATIONS, EndedSessions


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a refresh token lives (``APP_REFRESH_TOKEN_TTL_SECONDS``)."""

    refresh_ttl_seconds: int


SESSION_POLICY: Key[SessionPolicy] = Key("sessions.policy")


def new_refresh_token() -> str:
    return f"rt_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """What a valid, just-consumed refresh token vouches for."""

    user_id: str
    tenant_id: str
    family_id: str
    generation: int


class SessionService:
    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.policy = parts[SESSION_POLICY]
        self.revocations = parts[SESSION_REVOCATIONS]
        self.tokens = RefreshTokenRepository(uow.session)

    async def issue(
        self, *, user_id: str, tenant_id: str, generation: int, family_id: str | None = None
    ) -> str:
        """A new refresh token (raw: shown once), in a new session unless ``family_id``,
        under the user's current session ``generation``."""
        raw = new_refresh_token()
        row = RefreshToken(
            id=new_id("rtk"),
            tenant_id=tenant_id,
            user_id=user_id,
            family_id=family_id or new_id("fam"),
            session_generation=generation,
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
        return RefreshGrant(row.user_id, row.tenant_id, row.family_id, row.session_generation)

    async def revoke(self, raw: str) -> None:
        """Logout: end the session this token belongs to (unknown tokens are ignored)."""
        row = await self.tokens.find(raw)
        if row is not None:
            await self.tokens.revoke_family(row.family_id)

    async def purge_dead(self, now: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` tokens that can never be accepted again (expired or
        revoked); how many. Answers to them do not change: a missing token is refused
        like an expired or revoked one."""
        return await self.tokens.delete_dead(now, limit=limit)

    async def end_all(self, user_id: str, *, generation: int, at: datetime) -> None:
        """Every session of the user ends, now that their generation is ``generation``
        (bumped by the caller in this unit): the refresh rows are marked revoked, and
        once this unit commits every process refuses their older access tokens."""
        await self.tokens.revoke_user(user_id)
        ended = EndedSessions(user_id, generation, at)
        # After the commit: published sooner, a rollback would leave the user's new
        # tokens refused (they carry the old generation) for a whole token lifetime.
        self.uow.after_commit(lambda: self.revocations.record(ended), name="publish_session_end")

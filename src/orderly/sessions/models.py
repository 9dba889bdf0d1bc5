from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime
from orderly.core.models import ID_LENGTH, TenantOwned


class RefreshToken(TenantOwned, Base):
    """One link of a rotation chain. Only the SHA-256 of the token is stored.

    All tokens descended from one login share a ``family_id``: presenting a spent
    token again means it was stolen (or replayed), and the whole family is revoked.
    """

    __tablename__ = "refresh_tokens"

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The user's session generation when issued: a token from before their sessions
    # ended is refused even if it escaped the revocation (a login racing a demotion).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

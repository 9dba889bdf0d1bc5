from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime
from orderly.core.identity import Role
from orderly.core.models import TenantOwned


class User(TenantOwned, Base):
    __tablename__ = "users"

    # Stored lower-cased: unique and case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped whenever the user's sessions end (demotion, deactivation); tokens carry
    # the generation they were issued under and die with it (sessions/revocations.py).
    # Only ever incremented, so nothing done to the user later can revive a token.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sessions_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

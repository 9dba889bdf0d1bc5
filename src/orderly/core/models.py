"""Column mixins shared by the domain models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from orderly.core.database import UTCDateTime, utcnow

ID_LENGTH = 32


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def keyset_index(table: str) -> Index:
    """Serves the tenant-scoped, newest-first keyset pagination of every list."""
    return Index(f"ix_{table}_tenant_keyset", "tenant_id", "created_at", "id")


class TenantOwned(Timestamped):
    """A row that belongs to one tenant; only reachable through a ``TenantRepository``.

    Models that need more table arguments override ``__table_args__`` and keep
    ``keyset_index``.
    """

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (keyset_index(cls.__tablename__),)  # type: ignore[attr-defined]

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        return mapped_column(String(ID_LENGTH), ForeignKey("tenants.id", ondelete="CASCADE"))

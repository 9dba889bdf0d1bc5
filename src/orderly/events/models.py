from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime, utcnow
from orderly.core.models import ID_LENGTH

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")

# "evt_" + 24 characters (core.database.new_id), the public id of a published event.
PUBLIC_ID_PREFIX = "evt"


class Event(Base):
    """The transactional outbox: one row per state change, written in the same
    transaction as the change, so an event exists if and only if the change committed.

    ``id`` only grows, but in insertion order, not commit order: concurrent
    transactions commit out of id order. The relay (``relay.py``) therefore numbers
    rows after they have committed, one relay at a time: ``seq`` (per tenant, grows in
    commit order), ``public_id`` ("evt_…") and ``published_at`` are NULL until then.
    Consumers read by ``(tenant_id, seq)``.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_id_id", "tenant_id", "id"),
        Index("ix_events_tenant_id_seq", "tenant_id", "seq"),
        # The relay's queue: only the unpublished rows, in id order. Without it, every
        # relay pass would scan 30 days of published events to find the few new ones.
        Index(
            "ix_events_unpublished",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("tenants.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int | None] = mapped_column(BigInteger(), nullable=True)
    public_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True, unique=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EventCounter(Base):
    """The last ``seq`` given to a tenant's events (written by the relay only).

    A table of its own rather than a column on ``tenants``: the relay updates it on
    every batch, and a row lock on the tenant (a plan change, a profile update) would
    then queue behind publishing and the other way round; the events package also owns
    what it writes, so no other domain's model changes. It survives the purge of old
    events, so ``seq`` never goes back.
    """

    __tablename__ = "event_counters"

    tenant_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger(), default=0)

"""Webhook endpoints, their deliveries and every attempt at one.

The database holds each delivery's state (``pending`` until it succeeds or its
retries are spent); the job queue only carries work. A lost job is found again by the
sweeper (``flows.Sweeper``), so a delivery row that exists is delivered at least once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime
from orderly.core.models import ID_LENGTH, TenantOwned, keyset_index

URL_LENGTH = 2048
EVENT_ID_LENGTH = 64


class WebhookEndpoint(TenantOwned, Base):
    """A receiver of the tenant's events. The signing secret is stored sealed
    (AES-GCM, ``sealing.SecretBox``): signing needs the raw secret, so it cannot be a
    hash. After a rotation the previous secret signs too, until it expires."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    sealed_secret: Mapped[str] = mapped_column(Text)
    sealed_previous_secret: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), default=None
    )
    # Failed attempts in a row, and since when every attempt has failed: the two
    # triggers of auto-disable (reset by a success and by re-enabling).
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class WebhookDelivery(TenantOwned, Base):
    """One event for one endpoint. ``body`` is the exact JSON sent on every attempt
    (the same bytes, the same ``webhook-id``: receivers deduplicate on it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        keyset_index("webhook_deliveries"),
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint_keyset", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    endpoint_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts since the delivery was last (re)queued: the position in the retry
    # schedule (a redelivery starts the schedule again; ``attempts`` keeps counting).
    scheduled_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A worker sending it holds the lease until then; ``lease_token`` names that worker's
    # claim, so an outcome is recorded only by the worker whose lease it is.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)


class WebhookAttempt(TenantOwned, Base):
    """One try at a delivery: when (``created_at``), what the receiver answered, how
    long it took, or why it failed."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        keyset_index("webhook_attempts"),
        Index("ix_webhook_attempts_delivery_keyset", "delivery_id", "created_at", "id"),
    )

    delivery_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500), default=None)

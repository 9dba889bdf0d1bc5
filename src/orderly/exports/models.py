"""Exports and the files they write.

The database holds both: an export's state (``queued`` -> ``running`` -> ``succeeded``
or ``failed``, with its progress) and its file, cut into chunks of about 64 KiB
(``ExportChunk``). Any API process can serve the file (no shared disk), and a download
reads one chunk at a time. A run writes under its ``run_token``: a second run of the
same export (the queue delivers at least once, the sweeper re-queues a stalled one)
takes the token over, starts the file again, and the first run's next write finds the
token gone and stops.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime
from orderly.core.models import ID_LENGTH, TenantOwned, keyset_index


class Export(TenantOwned, Base):
    __tablename__ = "exports"
    __table_args__ = (
        keyset_index("exports"),
        # The sweeper's scan (unfinished exports not touched for a while) and the purge's.
        Index("ix_exports_status_updated_at", "status", "updated_at"),
        Index("ix_exports_created_at", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    # The filters asked for.
    status_filter: Mapped[str | None] = mapped_column(String(20), default=None)
    created_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    requested_by: Mapped[str | None] = mapped_column(String(ID_LENGTH), default=None)
    # The current run's claim, and how many runs were started (a cap on retries).
    run_token: Mapped[str | None] = mapped_column(String(32), default=None)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    byte_size: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ExportChunk(Base):
    """Part ``seq`` (0, 1, ...) of an export's file."""

    __tablename__ = "export_chunks"

    export_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

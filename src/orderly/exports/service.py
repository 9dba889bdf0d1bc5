"""Exports of the caller's tenant (owners, admins, ``read:orders`` keys): asking for
one, following it, downloading its file. The file is written by ``flows.ExportRun``.

An export and its file are kept 24 h; after that it is not found (404
``EXPORT_NOT_FOUND``), whether or not the hourly purge has deleted it yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.pagination import CURSORS, Page
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.exports.exceptions import ExportNotFoundError, ExportNotReadyError
from orderly.exports.flows import RETENTION, RUN_JOB
from orderly.exports.models import Export
from orderly.exports.repository import ExportRepository, chunk
from orderly.exports.schemas import FINISHED, ExportCreate, ExportRead, ExportStatus
from orderly.tenants.gate import PLAN_GATE

CURSOR_KIND = "exports"
# How often a progress stream looks at the export (a short read each time; nothing
# is held in between).
POLL_SECONDS = 0.25


def download_url(export_id: str) -> str:
    return f"/api/v1/exports/{export_id}/download"


def export_read(row: Export) -> ExportRead:
    return ExportRead.model_validate(
        {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "progress": row.progress,
            "rows": row.rows,
            "error": row.error,
            "download_url": download_url(row.id) if row.status == "succeeded" else None,
            "created_at": row.created_at,
            "expires_at": row.created_at + RETENTION,
        }
    )


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    byte_size: int
    chunks: AsyncIterator[bytes]


class ExportService:
    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.parts = parts
        self.tenant_id = uow.principal.tenant_id
        self.repo = ExportRepository(uow.session, self.tenant_id)
        self.cursors = parts[CURSORS]

    async def create(self, data: ExportCreate) -> ExportRead:
        await self.parts[PLAN_GATE].require_feature(self.uow, "exports")
        export = await self.repo.add(
            Export(
                id=new_id("exp"),
                kind=data.kind,
                status=ExportStatus.QUEUED.value,
                progress=0,
                rows=0,
                status_filter=data.status.value if data.status else None,
                created_after=data.created_after,
                created_before=data.created_before,
                requested_by=self.uow.principal.id,
            )
        )
        self.uow.enqueue_job(RUN_JOB, export_id=export.id)
        return export_read(export)

    async def list(self, *, limit: int, cursor: str | None) -> Page[ExportRead]:
        fetch = partial(self.repo.page, self.repo.kept(_kept_since()))
        rows, next_cursor = await self.cursors.page(CURSOR_KIND, fetch, limit=limit, cursor=cursor)
        return Page[ExportRead](items=[export_read(row) for row in rows], next_cursor=next_cursor)

    async def get(self, export_id: str) -> ExportRead:
        return export_read(await self._find(export_id))

    async def download(self, export_id: str) -> ExportFile:
        """The file, read a chunk at a time as the client takes it; 409 unless done."""
        export = await self._find(export_id)
        if export.status != ExportStatus.SUCCEEDED:
            raise ExportNotReadyError(export.status)
        stamp = export.created_at.strftime("%Y%m%dT%H%M%SZ")
        return ExportFile(
            filename=f"orders-{stamp}-{export.id}.csv",
            byte_size=export.byte_size,
            chunks=_chunks(self.parts, export.id, export.chunk_count),
        )

    async def follow(self, export_id: str) -> AsyncIterator[ExportRead]:
        """The export now (404 here, before any stream starts), then each time it
        changes, until it has finished (or expired)."""
        first = await self._find(export_id)
        return _changes(self.parts, self.tenant_id, export_read(first))

    async def _find(self, export_id: str) -> Export:
        export = await self.repo.find(export_id, _kept_since())
        if export is None:
            raise ExportNotFoundError(export_id)
        return export


def _kept_since() -> datetime:
    return utcnow() - RETENTION


async def _chunks(parts: Container, export_id: str, count: int) -> AsyncIterator[bytes]:
    # A short read per chunk: a slow client holds no connection between them.
    for seq in range(count):
        async with unit_of_work(parts, write=False) as uow:
            data = await chunk(uow.session, export_id, seq)
        if data is None:  # purged while downloading: the client sees a short body
            return
        yield data


async def _changes(
    parts: Container, tenant_id: str, first: ExportRead
) -> AsyncIterator[ExportRead]:
    shown = first
    yield shown
    while shown.status not in FINISHED:
        await asyncio.sleep(POLL_SECONDS)
        async with unit_of_work(parts, write=False) as uow:
            row = await ExportRepository(uow.session, tenant_id).find(shown.id, _kept_since())
            now = export_read(row) if row is not None else None
        if now is None:
            return
        if (now.status, now.progress, now.rows) != (shown.status, shown.progress, shown.rows):
            shown = now
            yield shown

"""Queries of exports: a tenant's (the API) and the jobs' (by id, every tenant)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.database import utcnow
from orderly.core.repository import TenantRepository
from orderly.exports.models import Export, ExportChunk

UNFINISHED = ("queued", "running")


class ExportRepository(TenantRepository[Export]):
    model = Export

    def kept(self, since: datetime) -> Select[Any]:
        """The tenant's exports created after ``since`` (older ones are expired)."""
        return self.scoped().where(Export.created_at > since)

    async def find(self, export_id: str, since: datetime) -> Export | None:
        stmt = self.kept(since).where(Export.id == export_id)
        row: Export | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


async def chunk(session: AsyncSession, export_id: str, seq: int) -> bytes | None:
    stmt = select(ExportChunk.data).where(
        ExportChunk.export_id == export_id, ExportChunk.seq == seq
    )
    data: bytes | None = (await session.execute(stmt)).scalar_one_or_none()
    return data


class RunSupersededError(Exception):
    """Another run of the export took it over (or it was purged): stop writing."""


@dataclass(frozen=True, slots=True)
class PageWritten:
    progress: int
    rows: int
    chunk_count: int
    byte_size: int


class ExportJobs:
    """What the export job and the sweeper do, by export id across tenants."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, export_id: str, token: str, max_runs: int) -> Export | None:
        """Start a run: the export, reset to an empty file under ``token``; None when
        it is finished (or gone). Past ``max_runs`` it is failed instead (returned)."""
        stmt = select(Export).where(Export.id == export_id).with_for_update()
        export: Export | None = (await self.session.execute(stmt)).scalar_one_or_none()
        if export is None or export.status not in UNFINISHED:
            return None
        await self.session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))
        export.runs += 1
        export.run_token = token
        export.progress = export.rows = export.chunk_count = export.byte_size = 0
        if export.runs > max_runs:
            export.status = "failed"
            export.error = f"The export was started {max_runs} times without finishing."
            export.finished_at = utcnow()
        else:
            export.status = "running"
        await self.session.flush()
        return export

    async def write_page(
        self,
        export_id: str,
        token: str,
        chunks: Sequence[bytes],
        written: PageWritten,
        *,
        finished: bool,
    ) -> None:
        """Record a page's progress and append its chunks, if ``token`` still holds the
        export: the conditional UPDATE is the whole race between two runs."""
        values: dict[str, Any] = {
            "progress": 100 if finished else written.progress,
            "rows": written.rows,
            "chunk_count": written.chunk_count,
            "byte_size": written.byte_size,
            "updated_at": utcnow(),
        }
        if finished:
            values |= {"status": "succeeded", "finished_at": utcnow(), "run_token": None}
        result = await self.session.execute(
            update(Export)
            .where(Export.id == export_id, Export.run_token == token, Export.status == "running")
            .values(**values)
        )
        if _rowcount(result) != 1:
            raise RunSupersededError(export_id)
        first = written.chunk_count - len(chunks)
        if chunks:
            await self.session.execute(
                insert(ExportChunk),
                [
                    {"export_id": export_id, "seq": first + index, "data": data}
                    for index, data in enumerate(chunks)
                ],
            )

    async def fail(self, export_id: str, token: str, error: str) -> None:
        await self.session.execute(
            update(Export)
            .where(Export.id == export_id, Export.run_token == token)
            .values(status="failed", error=error, finished_at=utcnow(), run_token=None)
        )
        await self.session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))

    async def stalled(self, before: datetime, limit: int) -> list[str]:
        """Unfinished exports untouched since ``before`` (their job was lost or its
        worker died), marked touched now so the next sweep leaves them to this one."""
        stmt = (
            select(Export.id)
            .where(Export.status.in_(UNFINISHED), Export.updated_at < before)
            .order_by(Export.updated_at)
            .limit(limit)
        )
        ids = list((await self.session.execute(stmt)).scalars())
        if ids:
            await self.session.execute(
                update(Export).where(Export.id.in_(ids)).values(updated_at=utcnow())
            )
        return ids

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete exports created before ``cutoff`` and their files; how many."""
        old = select(Export.id).where(Export.created_at < cutoff).scalar_subquery()
        await self.session.execute(delete(ExportChunk).where(ExportChunk.export_id.in_(old)))
        result = await self.session.execute(delete(Export).where(Export.created_at < cutoff))
        return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

"""The jobs of exports: a run (``exports.run``), the sweeper and the 24 h purge.

A run reads the orders a page at a time, each page in a read unit of work of its own
(no connection held while the CSV is written), and records each page's chunks and
progress in a short write transaction. Started again (the queue delivers at least
once; the sweeper re-queues an export whose run went quiet), it starts the file again
under a new token, and the older run stops at its next write (``RunSupersededError``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.failures import FAILURES
from orderly.core.jobs import JOBS, Job
from orderly.core.pagination import Position
from orderly.core.unit_of_work import unit_of_work
from orderly.exports import csvfile
from orderly.exports.models import Export
from orderly.exports.repository import ExportJobs, PageWritten, RunSupersededError
from orderly.orders.service import OrderWindow, TenantOrders
from orderly.orders.states import OrderStatus

RUN_JOB = "exports.run"
SWEEP_JOB = "exports.sweep"
PURGE_JOB = "exports.purge"
RETENTION = timedelta(hours=24)
PAGE_ORDERS = 500
MAX_RUNS = 3
# A running export writes a page every few hundred milliseconds; one silent this long
# lost its worker (or its job never arrived) and is queued again.
STALL_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 100
FAILED = "The export failed. Start a new export; if it fails again, contact support."

logger = structlog.get_logger("orderly.exports")


def window_of(export: Export) -> OrderWindow:
    return OrderWindow(
        as_of=export.created_at,
        status=OrderStatus(export.status_filter) if export.status_filter else None,
        created_after=export.created_after,
        created_before=export.created_before,
    )


class ExportRun:
    def __init__(self, parts: Container, *, page_orders: int | None = None) -> None:
        self.parts = parts
        self.page_orders = page_orders or PAGE_ORDERS

    async def run(self, export_id: str) -> None:
        token = new_id("run")[4:]
        async with unit_of_work(self.parts) as uow:
            export = await ExportJobs(uow.session).claim(export_id, token, MAX_RUNS)
        if export is None or export.status != "running":
            return
        try:
            await self._write(export, token)
        except RunSupersededError:
            logger.info("export_run_superseded", export_id=export_id)
        except Exception as exc:
            self.parts[FAILURES].count(f"job:{RUN_JOB}")
            logger.error("export_failed", export_id=export_id, exc_info=exc)
            async with unit_of_work(self.parts) as uow:
                await ExportJobs(uow.session).fail(export_id, token, FAILED)

    async def _write(self, export: Export, token: str) -> None:
        window, tenant = window_of(export), export.tenant_id
        async with unit_of_work(self.parts, write=False) as uow:
            total = await TenantOrders(uow, tenant).count(window)
        csv, done, after = csvfile.ChunkedCsv(csvfile.CHUNK_BYTES), 0, None
        while True:
            async with unit_of_work(self.parts, write=False) as uow:
                orders = await TenantOrders(uow, tenant).page(window, after, self.page_orders)
            csv.add(orders)
            done += len(orders)
            last = len(orders) < self.page_orders
            chunks = csv.full_chunks() + (csv.rest() if last else [])
            # Capped below 100 until the end: orders may change state under the filter.
            progress = min(99, done * 100 // total) if total else 0
            written = PageWritten(progress, csv.rows, csv.chunk_count, csv.byte_size)
            async with unit_of_work(self.parts) as uow:
                await ExportJobs(uow.session).write_page(
                    export.id, token, chunks, written, finished=last
                )
            if last:
                logger.info("export_succeeded", export_id=export.id, rows=csv.rows)
                return
            after = Position(orders[-1].created_at, orders[-1].id)


async def sweep(parts: Container, now: datetime | None = None) -> int:
    """Queue again the unfinished exports that went quiet; how many."""
    async with unit_of_work(parts) as uow:
        stalled = await ExportJobs(uow.session).stalled(
            (now or utcnow()) - STALL_AFTER, SWEEP_BATCH
        )
    if stalled:
        await parts[JOBS].enqueue(*(Job(RUN_JOB, {"export_id": id_}) for id_ in stalled))
        logger.info("exports_requeued", count=len(stalled))
    return len(stalled)


async def purge(parts: Container, now: datetime | None = None) -> int:
    """Delete exports (and their files) older than 24 h; how many."""
    async with unit_of_work(parts) as uow:
        return await ExportJobs(uow.session).purge_before((now or utcnow()) - RETENTION)

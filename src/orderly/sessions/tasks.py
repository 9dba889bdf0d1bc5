"""Background jobs of sessions."""

from __future__ import annotations

import structlog

from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.jobs import JobArgs
from orderly.core.unit_of_work import unit_of_work
from orderly.sessions.service import SessionService

PURGE_DEAD_TOKENS = "sessions.purge_dead_refresh_tokens"
PURGE_EVERY_SECONDS = 3600
# Rows per transaction: each DELETE stays well inside the statement timeout, and the
# lock it takes is short.
PURGE_BATCH = 1000
PURGE_MAX_BATCHES = 100

logger = structlog.get_logger("orderly.sessions")


async def purge_dead_refresh_tokens(container: Container, args: JobArgs) -> None:
    """Periodic; idempotent (a second run finds nothing more to delete)."""
    now, purged = utcnow(), 0
    for _ in range(PURGE_MAX_BATCHES):
        async with unit_of_work(container) as uow:
            deleted = await SessionService(uow, container).purge_dead(now, limit=PURGE_BATCH)
        purged += deleted
        if deleted < PURGE_BATCH:
            break
    if purged:
        logger.info("refresh_tokens_purged", count=purged)

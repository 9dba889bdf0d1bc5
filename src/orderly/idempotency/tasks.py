"""Background jobs of idempotency."""

from __future__ import annotations

import structlog

from orderly.core.jobs import JobArgs
from orderly.core.kvstore import MemoryStore

PURGE_EXPIRED = "idempotency.purge_expired"
PURGE_EVERY_SECONDS = 3600

logger = structlog.get_logger("orderly.idempotency")


async def purge_expired(store: MemoryStore, args: JobArgs) -> None:
    """Embedded mode: expired records (and every other expired key of the in-process
    store) leave memory now rather than when the LRU reaches them. Idempotent."""
    purged = store.purge_expired()
    if purged:
        logger.info("expired_keys_purged", count=purged)

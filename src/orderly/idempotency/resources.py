"""What idempotency adds to the container: where records and locks are kept."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.kvstore import KV
from orderly.idempotency.repository import IDEMPOTENCY_RECORDS, IdempotencyRepository


async def provide(container: Container, settings: Settings) -> None:
    records = IdempotencyRepository(container[KV], ttl_seconds=settings.idempotency_ttl_seconds)
    container.add(IDEMPOTENCY_RECORDS, records)

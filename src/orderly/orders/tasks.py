"""Background jobs of orders."""

from __future__ import annotations

import structlog

from orderly.core.container import Container
from orderly.core.jobs import JobArgs
from orderly.orders.service import OrderExpiry

EXPIRE_UNPAID = "orders.expire_unpaid"
EXPIRE_EVERY_SECONDS = 60

logger = structlog.get_logger("orderly.orders")


async def expire_unpaid(container: Container, ttl_seconds: int, args: JobArgs) -> None:
    """Periodic; idempotent (an order already moved is not found again)."""
    expired = await OrderExpiry(container, ttl_seconds=ttl_seconds).run()
    if expired:
        logger.info("orders_expired", count=expired)

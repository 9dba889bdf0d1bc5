"""What orders adds to the container: the periodic expiry of unpaid orders."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.orders import tasks


async def provide(container: Container, settings: Settings) -> None:
    container[JOBS].register_periodic(
        tasks.EXPIRE_UNPAID,
        partial(tasks.expire_unpaid, container, settings.order_payment_ttl_seconds),
        every_seconds=tasks.EXPIRE_EVERY_SECONDS,
    )

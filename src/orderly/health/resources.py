"""What health adds to the container: the readiness check, with its timeout."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.database import DATABASE
from orderly.core.kvstore import REDIS
from orderly.health.service import READINESS, ReadinessCheck


async def provide(container: Container, settings: Settings) -> None:
    check = ReadinessCheck(
        container[DATABASE], container[REDIS], timeout_seconds=settings.health_timeout_seconds
    )
    container.add(READINESS, check)

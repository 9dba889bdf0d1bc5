"""Background jobs of api_keys."""

from __future__ import annotations

from orderly.api_keys.service import ApiKeyCredentials
from orderly.core.container import Container
from orderly.core.jobs import JobArgs
from orderly.core.unit_of_work import unit_of_work

RECORD_USE = "api_keys.record_use"


async def record_use(container: Container, args: JobArgs) -> None:
    """Stamp a key's ``last_used_at`` (idempotent: a no-op within the resolution)."""
    async with unit_of_work(container) as uow:
        await ApiKeyCredentials(uow, container).record_use(str(args["key_id"]))

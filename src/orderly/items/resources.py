"""What items adds to the container: the count of live items that the plans limit."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.items.repository import count_live_items
from orderly.tenants.usage import USAGE_METERS


async def provide(container: Container, settings: Settings) -> None:
    container[USAGE_METERS].register("items", count_live_items)

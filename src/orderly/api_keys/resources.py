"""What api_keys adds to the container: the cached resolver of ``X-API-Key``."""

from __future__ import annotations

from orderly.api_keys.resolver import API_KEY_RESOLVER, ApiKeyResolver
from orderly.config import Settings
from orderly.core.cache import INVALIDATION_BUS
from orderly.core.container import Container


async def provide(container: Container, settings: Settings) -> None:
    container.add(API_KEY_RESOLVER, ApiKeyResolver(container[INVALIDATION_BUS]))

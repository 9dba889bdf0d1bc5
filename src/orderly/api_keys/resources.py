"""What api_keys adds to the container: the check of ``X-API-Key`` behind
``get_principal`` (a cached resolver), the job that records a key's use, and the
count of live keys that the plans limit."""

from __future__ import annotations

from functools import partial

from orderly.api_keys import tasks
from orderly.api_keys.repository import count_live_keys
from orderly.api_keys.resolver import ApiKeyResolver
from orderly.config import Settings
from orderly.core.access import API_KEYS
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.tenants.usage import USAGE_METERS


async def provide(container: Container, settings: Settings) -> None:
    container.add(API_KEYS, ApiKeyResolver(container))
    container[JOBS].register(tasks.RECORD_USE, partial(tasks.record_use, container))
    container[USAGE_METERS].register("api_keys", count_live_keys)

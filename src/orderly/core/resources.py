"""What the lifespan opens and closes: one instance per app, reachable from requests."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from orderly.api_keys.resolver import ApiKeyResolver
from orderly.auth.passwords import PasswordHasher
from orderly.auth.revocations import SessionRevocations
from orderly.auth.tokens import AccessTokenCodec
from orderly.config import Settings
from orderly.core.cache import InvalidationBus
from orderly.core.database import Database
from orderly.core.failures import FailureCounts
from orderly.core.kvstore import KeyValueStore
from orderly.core.pagination import CursorCodec
from orderly.core.response_cache import ResponseCache
from orderly.core.tasks import TaskRunner


@dataclass(slots=True)
class Resources:
    settings: Settings
    database: Database
    redis: Redis | None
    passwords: PasswordHasher
    access_tokens: AccessTokenCodec
    revocations: SessionRevocations
    cursors: CursorCodec
    tasks: TaskRunner
    kv: KeyValueStore
    bus: InvalidationBus
    api_keys: ApiKeyResolver
    response_cache: ResponseCache
    failures: FailureCounts

    async def close(self) -> None:
        await self.bus.stop()
        await self.response_cache.close()
        await self.tasks.drain()
        self.passwords.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()


def get_resources(conn: HTTPConnection) -> Resources:
    resources: Resources = conn.app.state.resources
    return resources

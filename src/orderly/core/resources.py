"""What the lifespan opens and closes: one instance per app, reachable from requests."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from orderly.config import Settings
from orderly.core.database import Database


@dataclass(slots=True)
class Resources:
    settings: Settings
    database: Database
    redis: Redis | None

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()


def get_resources(conn: HTTPConnection) -> Resources:
    resources: Resources = conn.app.state.resources
    return resources

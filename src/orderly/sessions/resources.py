"""What sessions adds to the container: the lifetimes of a login session's tokens."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.sessions.service import SESSION_POLICY, SessionPolicy


async def provide(container: Container, settings: Settings) -> None:
    policy = SessionPolicy(
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
    )
    container.add(SESSION_POLICY, policy)

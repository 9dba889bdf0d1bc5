"""What sessions adds to the container: how long a refresh token lives. (The
revocation markers are provided by users, whose rows they copy.)"""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.sessions.service import SESSION_POLICY, SessionPolicy


async def provide(container: Container, settings: Settings) -> None:
    policy = SessionPolicy(refresh_ttl_seconds=settings.refresh_token_ttl_seconds)
    container.add(SESSION_POLICY, policy)

"""What sessions adds to the container: how long a refresh token lives, and the hourly
purge of tokens that can never be used again. (The revocation markers are provided by
users, whose rows they copy.)"""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.sessions import tasks
from orderly.sessions.service import SESSION_POLICY, SessionPolicy


async def provide(container: Container, settings: Settings) -> None:
    policy = SessionPolicy(refresh_ttl_seconds=settings.refresh_token_ttl_seconds)
    container.add(SESSION_POLICY, policy)
    container[JOBS].register_periodic(
        tasks.PURGE_DEAD_TOKENS,
        partial(tasks.purge_dead_refresh_tokens, container),
        every_seconds=tasks.PURGE_EVERY_SECONDS,
    )

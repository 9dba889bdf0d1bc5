"""What users adds to the container: the revocation markers of ended sessions, restored
from the users' rows when the store has lost them."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.kvstore import KV, REDIS, MemoryStore
from orderly.sessions.revocations import SESSION_REVOCATIONS, SessionRevocations
from orderly.users.service import sessions_ended_since


async def provide(container: Container, settings: Settings) -> None:
    # Embedded mode keeps revocations in a store of their own: in the shared one, a
    # flood of idempotency keys could evict a marker (LRU) and revive a revoked token.
    store = container[KV] if container[REDIS] is not None else MemoryStore()
    revocations = SessionRevocations(
        store,
        partial(sessions_ended_since, container),
        access_ttl_seconds=settings.access_token_ttl_seconds,
    )
    container.add(SESSION_REVOCATIONS, revocations)

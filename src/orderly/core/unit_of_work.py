"""Work that must wait until the request's transaction has committed.

Cache invalidations and cross-process notifications done *before* the commit would
let a concurrent reader re-cache the old rows; done after a rollback they would be
wrong. ``after_commit`` queues an action on the session, ``mark_changed`` records that
a cached namespace of a tenant changed; the request dependency runs both once the
commit succeeded (and drops them on rollback), before the response is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

AfterCommit = Callable[[], Awaitable[None]]
_ACTIONS = "orderly.after_commit"
_CHANGED = "orderly.changed"


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    session.info.setdefault(_ACTIONS, []).append(action)


def mark_changed(session: AsyncSession, namespace: str, tenant_id: str) -> None:
    """Cached reads of ``namespace`` for this tenant are stale once this commits."""
    session.info.setdefault(_CHANGED, set()).add((namespace, tenant_id))


async def commit(session: AsyncSession) -> set[tuple[str, str]]:
    """Commit (if anything was done), run the queued actions, return what changed."""
    if session.in_transaction():
        await session.commit()
    changed: set[tuple[str, str]] = session.info.pop(_CHANGED, set())
    actions: list[AfterCommit] = session.info.pop(_ACTIONS, [])
    for action in actions:
        await action()
    return changed


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_ACTIONS, None)
    session.info.pop(_CHANGED, None)
    if session.in_transaction():
        await session.rollback()

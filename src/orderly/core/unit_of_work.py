"""Work that must wait until the request's transaction has committed.

Cache invalidations and cross-process notifications done *before* the commit would
let a concurrent reader re-cache the old rows; done after a rollback they would be
wrong. ``after_commit`` queues them on the session; the request dependency runs them
once the commit succeeded (and drops them on rollback), before the response is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

AfterCommit = Callable[[], Awaitable[None]]
_KEY = "orderly.after_commit"


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    session.info.setdefault(_KEY, []).append(action)


async def commit(session: AsyncSession) -> None:
    """Commit (if anything was done) and then run the queued actions."""
    if session.in_transaction():
        await session.commit()
    actions: list[AfterCommit] = session.info.pop(_KEY, [])
    for action in actions:
        await action()


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)
    if session.in_transaction():
        await session.rollback()

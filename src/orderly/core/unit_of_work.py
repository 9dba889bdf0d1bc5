"""Work that must wait until the request's transaction has committed.

Cache invalidations and cross-process notifications done *before* the commit would
let a concurrent reader re-cache the old rows; done after a rollback they would be
wrong. ``after_commit`` queues an action on the session, ``mark_changed`` records that
a cached namespace of a tenant changed; the request dependency runs both once the
commit succeeded (and drops them on rollback), before the response is sent.

Work after the commit is best-effort (``run_after_commit``): the response says what
the database says, so a failing action (Redis down) is counted and logged, never
raised. Each kind of action heals itself: the response cache retries a failed
invalidation, and every in-process cache entry expires after a short TTL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.failures import FailureCounts

AfterCommit = Callable[[], Awaitable[None]]
_ACTIONS = "orderly.after_commit"
_CHANGED = "orderly.changed"


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    session.info.setdefault(_ACTIONS, []).append(action)


def mark_changed(session: AsyncSession, namespace: str, tenant_id: str) -> None:
    """Cached reads of ``namespace`` for this tenant are stale once this commits."""
    session.info.setdefault(_CHANGED, set()).add((namespace, tenant_id))


async def commit(session: AsyncSession, failures: FailureCounts) -> set[tuple[str, str]]:
    """Commit (if anything was done), run the queued actions, return what changed.
    Only the commit itself can raise."""
    if session.in_transaction():
        await session.commit()
    changed: set[tuple[str, str]] = session.info.pop(_CHANGED, set())
    actions: list[AfterCommit] = session.info.pop(_ACTIONS, [])
    await run_after_commit(actions, failures)
    return changed


async def run_after_commit(actions: Iterable[AfterCommit], failures: FailureCounts) -> None:
    """Run each action; one that fails is counted and logged, and the rest still run.
    Never raises: the transaction is committed, and turning that success into an error
    response would make the client retry what is already done."""
    for action in actions:
        try:
            await action()
        except Exception as exc:
            failures.record("after_commit", exc)


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_ACTIONS, None)
    session.info.pop(_CHANGED, None)
    if session.in_transaction():
        await session.rollback()

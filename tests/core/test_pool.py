"""The pool queue serves waiting requests first come, first served.

Each test drives the queue the way SQLAlchemy's pool does: ``get`` inside
``greenlet_spawn``, ``put_nowait`` when a connection is returned.

Two tests guard the workaround in ``orderly.core.pool`` (private SQLAlchemy parts,
pinned to 2.1.x in pyproject.toml): the control test fails the day SQLAlchemy's own
queue is fair (then ``FairAsyncQueue`` can go), and the engine test fails the day the
pool stops building its queue from ``_queue_class`` (then the workaround is silently
off and must be redone).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.util.concurrency import greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, QueueCommon

from orderly.app.container import engine_options
from orderly.core.database import create_engine
from orderly.core.pool import FairAsyncPool, FairAsyncQueue
from tests.conftest import make_settings
from tests.support.services import Backend

Taken = list[tuple[str, str]]


async def take(queue: QueueCommon[str], name: str, taken: Taken, wait_s: float = 5) -> None:
    taken.append((name, await greenlet_spawn(queue.get, True, wait_s)))


async def newcomer_races_a_waiter(queue: QueueCommon[str]) -> Taken:
    """'waiter' waits for a connection; 'newcomer' asks for one in the same iteration
    as a connection comes back (its step is already scheduled when the put happens)."""
    taken: Taken = []
    waiter = asyncio.create_task(take(queue, "waiter", taken))
    await asyncio.sleep(0.01)
    newcomer = asyncio.create_task(take(queue, "newcomer", taken, wait_s=0.2))
    queue.put_nowait("conn")
    await asyncio.sleep(0.05)
    for task in (waiter, newcomer):
        task.cancel()
    await asyncio.gather(waiter, newcomer, return_exceptions=True)
    return taken


async def test_a_returned_connection_goes_to_the_longest_waiter() -> None:
    assert await newcomer_races_a_waiter(FairAsyncQueue[str](maxsize=1)) == [("waiter", "conn")]


async def test_control_the_stock_queue_lets_a_newcomer_jump_the_queue() -> None:
    """Why FairAsyncQueue exists: SQLAlchemy's own queue gives it to the newcomer.

    When this fails, SQLAlchemy (or asyncio) serves waiters in order: remove
    ``orderly.core.pool`` and its pin instead of fixing this test."""
    assert await newcomer_races_a_waiter(AsyncAdaptedQueue[str](maxsize=1)) == [
        ("newcomer", "conn")
    ]


async def test_waiters_are_served_in_arrival_order() -> None:
    queue = FairAsyncQueue[str](maxsize=3)
    taken: Taken = []
    tasks = []
    for name in ("a", "b", "c"):
        tasks.append(asyncio.create_task(take(queue, name, taken)))
        await asyncio.sleep(0.01)
    for conn in ("c1", "c2", "c3"):
        queue.put_nowait(conn)
    await asyncio.gather(*tasks)
    assert taken == [("a", "c1"), ("b", "c2"), ("c", "c3")]
    assert queue.qsize() == 0


async def test_a_waiter_that_times_out_gets_empty_and_the_next_connection_is_kept() -> None:
    queue = FairAsyncQueue[str](maxsize=1)
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.05)
    queue.put_nowait("conn")
    assert queue.qsize() == 1
    assert await greenlet_spawn(queue.get, True, 0.05) == "conn"


async def test_a_connection_handed_to_a_waiter_that_is_cancelled_passes_on() -> None:
    queue = FairAsyncQueue[str](maxsize=1)
    taken: Taken = []
    first = asyncio.create_task(take(queue, "first", taken))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(take(queue, "second", taken))
    await asyncio.sleep(0.01)
    queue.put_nowait("conn")  # handed to first's future...
    first.cancel()  # ...which is cancelled before it runs again
    await asyncio.gather(first, second, return_exceptions=True)
    assert taken == [("second", "conn")]


async def test_connections_rest_in_the_queue_only_while_nobody_waits() -> None:
    queue = FairAsyncQueue[str](maxsize=2)
    queue.put_nowait("c1")
    queue.put_nowait("c2")
    assert queue.full()
    assert await greenlet_spawn(queue.get, True, 1) == "c1"
    assert queue.get_nowait() == "c2"
    with pytest.raises(Empty):
        queue.get_nowait()


async def test_the_engine_pools_use_the_fair_queue(backend: Backend) -> None:
    engine = create_engine(engine_options(make_settings(backend)))
    try:
        assert isinstance(engine.pool, FairAsyncPool)
        # The private seam the workaround relies on: the pool built its queue from
        # _queue_class (SQLAlchemy 2.1, sqlalchemy/pool/impl.py).
        assert isinstance(engine.pool._pool, FairAsyncQueue)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        assert engine.pool.checkedin() == 1  # returned to the fair queue, kept
    finally:
        await engine.dispose()

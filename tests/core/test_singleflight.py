"""SingleFlight: concurrent callers of one key share one computation."""

from __future__ import annotations

import asyncio

import pytest

from orderly.core.singleflight import SingleFlight


class Computation:
    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.runs += 1
        await self.release.wait()
        return f"value-{self.runs}"


async def test_concurrent_callers_share_one_computation() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    compute = Computation()
    callers = [asyncio.create_task(flights.run("k", compute)) for _ in range(20)]
    await asyncio.sleep(0)
    compute.release.set()
    assert await asyncio.gather(*callers) == ["value-1"] * 20
    assert compute.runs == 1
    assert len(flights) == 0


async def test_other_keys_and_later_calls_compute_again() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    compute = Computation()
    compute.release.set()
    both = await asyncio.gather(flights.run("a", compute), flights.run("b", compute))
    assert list(both) == ["value-1", "value-2"]
    assert await flights.run("a", compute) == "value-3"  # not a cache


async def test_when_the_first_caller_fails_each_waiter_computes_for_itself() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    started = asyncio.Event()
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            await asyncio.sleep(0.01)
            raise LookupError("only the first caller sees this")
        return "recomputed"

    leader = asyncio.create_task(flights.run("k", compute))
    await started.wait()
    waiters = [asyncio.create_task(flights.run("k", compute)) for _ in range(3)]
    with pytest.raises(LookupError):
        await leader
    assert await asyncio.gather(*waiters) == ["recomputed"] * 3
    assert calls == 4


async def _leader_and_waiter(
    compute: Computation,
) -> tuple[asyncio.Task[str], asyncio.Task[str]]:
    """Two callers of one key, the first computing, the second waiting on it."""
    flights: SingleFlight[str, str] = SingleFlight()
    leader = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    return leader, waiter


async def test_a_cancelled_first_caller_does_not_cancel_the_waiters() -> None:
    compute = Computation()
    leader, waiter = await _leader_and_waiter(compute)
    leader.cancel()
    compute.release.set()
    assert await waiter == "value-2"
    assert leader.cancelled()


async def test_a_cancelled_waiter_does_not_cancel_the_computation() -> None:
    compute = Computation()
    leader, waiter = await _leader_and_waiter(compute)
    waiter.cancel()
    compute.release.set()
    assert await leader == "value-1"
    assert waiter.cancelled()

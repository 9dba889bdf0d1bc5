"""Password hashing off the loop, with a queue bounded in time (real Argon2)."""

from __future__ import annotations

import asyncio
import time

import pytest

from orderly.core.passwords import PasswordCheckBusyError, PasswordHasher


def _hasher(max_wait_seconds: float) -> PasswordHasher:
    return PasswordHasher(
        time_cost=1, memory_kib=1024, workers=1, max_wait_seconds=max_wait_seconds
    )


async def test_a_lone_hash_is_never_refused_however_tight_the_bound() -> None:
    hasher = _hasher(max_wait_seconds=1e-9)
    try:
        stored = await hasher.hash("correct horse")
        assert await hasher.verify("correct horse", stored) == (True, None)
        assert (await hasher.verify("wrong horse", stored))[0] is False
    finally:
        hasher.close()


async def test_hashes_that_would_wait_too_long_are_refused_at_once() -> None:
    hasher = _hasher(max_wait_seconds=1e-9)
    try:
        stored = await hasher.hash("correct horse")
        results = await asyncio.gather(
            *(hasher.verify("correct horse", stored) for _ in range(6)), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, PasswordCheckBusyError)]
        assert results[0] == (True, None)  # admitted first, into an empty queue
        assert len(refused) == 5
        for error in refused:
            assert error.status == 503
            assert int(error.headers["Retry-After"]) >= 1
        # Refused, not queued: nothing is left behind, the next one is admitted.
        assert await hasher.verify("correct horse", stored) == (True, None)
    finally:
        hasher.close()


async def test_what_fits_in_the_bound_queues_and_succeeds() -> None:
    hasher = _hasher(max_wait_seconds=60.0)
    try:
        stored = await hasher.hash("correct horse")
        results = await asyncio.gather(*(hasher.verify("correct horse", stored) for _ in range(6)))
        assert results == [(True, None)] * 6
    finally:
        hasher.close()


async def test_the_expected_wait_follows_the_hashes_wall_time() -> None:
    """The bound is in seconds of the hashes as they actually ran (CPU shared or not),
    learnt as they run: slow hashes raise the expected wait, fast ones lower it."""
    hasher = _hasher(max_wait_seconds=60.0)
    try:
        for _ in range(30):
            hasher._timed(lambda: time.sleep(0.05))
        assert hasher.expected_wait() == pytest.approx(0.05, rel=0.5)
        for _ in range(30):
            hasher._timed(lambda: None)
        assert hasher.expected_wait() < 0.005
    finally:
        hasher.close()

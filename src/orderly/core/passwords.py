"""Password hashing with Argon2id, off the event loop.

Hashing is deliberately slow (tens of milliseconds of CPU); run on the loop it would
stall every other request, so it runs in a small dedicated thread pool (argon2-cffi
releases the GIL while hashing). The pool is bounded: a login storm queues there
instead of starving the default executor that other libraries share.

The queue is bounded in time, too. A hash admitted behind too many others would make
its client wait for seconds (on one core, behind 64 concurrent logins: 10-20 s), so
it is refused at once with 503 and a ``Retry-After`` instead. The expected wait comes
from the hashes' own recent wall time, which includes whatever CPU they had to share.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from orderly.core.container import Key
from orderly.core.errors import ServiceUnavailableError

T = TypeVar("T")

# Niceness of the hashing threads. Linux schedules threads individually, so a login
# storm then takes the CPU the event loop leaves idle instead of competing with it:
# logins queue, but every other request keeps its latency.
HASHING_NICENESS = 10
# Weight of the newest hash in the running mean of hash wall times.
_SMOOTHING = 0.2


class PasswordCheckBusyError(ServiceUnavailableError):
    code = "PASSWORD_CHECK_BUSY"
    default_detail = "Too many passwords are being checked right now; retry shortly."

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"Too many passwords are being checked right now; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def _yield_to_the_loop() -> None:
    # Not Linux, or not permitted: the thread keeps normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


class PasswordHasher:
    def __init__(
        self, *, time_cost: int, memory_kib: int, workers: int, max_wait_seconds: float
    ) -> None:
        # The first hasher hashes; the others only verify, so bcrypt hashes imported
        # from older systems (and Argon2 hashes with outdated parameters) still log in
        # and are upgraded on the way.
        self._hash = PasswordHash(
            (
                Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1),
                BcryptHasher(),
            )
        )
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="pwhash", initializer=_yield_to_the_loop
        )
        self._workers = workers
        self._max_wait = max_wait_seconds
        self._admitted = 0  # hashes queued or running
        started = time.perf_counter()
        # Verified against when the email is unknown, so that answer costs the same time.
        self._dummy_hash = self._hash.hash(secrets.token_urlsafe(16))
        self._hash_seconds = time.perf_counter() - started  # running mean, wall time

    async def hash(self, password: str) -> str:
        return await self._run(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(valid, new hash to store when the stored one is outdated)."""
        target = password_hash or self._dummy_hash
        valid, updated = await self._run(self._hash.verify_and_update, password, target)
        if password_hash is None:
            return False, None
        return valid, updated

    def expected_wait(self) -> float:
        """Seconds until a hash admitted now would be done."""
        return (self._admitted + 1) * self._hash_seconds / self._workers

    def check_capacity(self) -> None:
        """Refuse (503) a hash that would wait too long. Services call it before they
        spend anything else on a request that will need one; ``hash`` and ``verify``
        check again when they are called."""
        # Below one hash per worker nothing waits: a lone login is never refused.
        wait = self.expected_wait()
        if self._admitted >= self._workers and wait > self._max_wait:
            raise PasswordCheckBusyError(retry_after=math.ceil(wait))

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        self.check_capacity()
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._timed, work, *args)
        finally:
            self._admitted -= 1

    def _timed(self, work: Callable[..., T], *args: str) -> T:
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            # Plain float assignment from a worker thread: atomic under the GIL, and a
            # lost update between two workers only skews a running mean.
            spent = time.perf_counter() - started
            self._hash_seconds += _SMOOTHING * (spent - self._hash_seconds)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


PASSWORDS: Key[PasswordHasher] = Key("passwords")

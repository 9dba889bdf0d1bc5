"""Password hashing with Argon2id, off the event loop.

Hashing is deliberately slow (tens of milliseconds of CPU); run on the loop it would
stall every other request, so it runs in a small dedicated thread pool (argon2-cffi
releases the GIL while hashing). The pool is bounded: a login storm queues there
instead of starving the default executor that other libraries share.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

# Niceness of the hashing threads. Linux schedules threads individually, so a login
# storm then takes the CPU the event loop leaves idle instead of competing with it:
# logins queue, but every other request keeps its latency.
HASHING_NICENESS = 10


def _yield_to_the_loop() -> None:
    # Not Linux, or not permitted: the thread keeps normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int, workers: int) -> None:
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
        # Verified against when the email is unknown, so that answer costs the same time.
        self._dummy_hash = self._hash.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(valid, new hash to store when the stored one is outdated)."""
        loop = asyncio.get_running_loop()
        target = password_hash or self._dummy_hash
        valid, updated = await loop.run_in_executor(
            self._executor, self._hash.verify_and_update, password, target
        )
        if password_hash is None:
            return False, None
        return valid, updated

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

"""Fire-and-forget work that must not be lost by the garbage collector or the shutdown.

asyncio keeps only weak references to tasks; a task nobody holds can vanish mid-flight.
The runner holds them, logs their failures, and waits for them on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

from orderly.core.container import Key

logger = structlog.get_logger("orderly.tasks")


class TaskRunner:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background_task_failed", task=task.get_name(), exc_info=task.exception())

    async def drain(self, limit_seconds: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=limit_seconds)


TASKS: Key[TaskRunner] = Key("tasks")

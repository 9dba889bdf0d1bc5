"""Jobs for the tests of `orderly worker` as a separate process.

The worker loads them with its hidden option ``--provider
tests.support.worker_jobs:provide``; the test's own container registers the same names
(``register``) to enqueue them. Each job leaves files in the directory named by
``ORDERLY_TEST_JOB_DIR``, named after its argument and the pid of the process that ran
it, for the test to read.
"""

from __future__ import annotations

import asyncio
import os
import time
from functools import partial
from pathlib import Path

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS, JobArgs, JobQueue

DIRECTORY_ENV = "ORDERLY_TEST_JOB_DIR"
TICKS_ENV = "ORDERLY_TEST_TICKS"  # set: the periodic job is registered too

NOTE = "test.note"  # writes "<name>.<pid>"
BLOCK = "test.block"  # "<name>.started.<pid>", waits for "<name>.release", "<name>.done.<pid>"
TICK = "test.tick"  # every second: a line "<time> <pid>" in "ticks"


async def _touch(path: Path) -> None:
    await asyncio.to_thread(path.write_text, "")


async def _note(directory: Path, args: JobArgs) -> None:
    await _touch(directory / f"{args['name']}.{os.getpid()}")


async def _block(directory: Path, args: JobArgs) -> None:
    name = args["name"]
    await _touch(directory / f"{name}.started.{os.getpid()}")
    release = directory / f"{name}.release"
    # Another process creates the file: there is no event to wait on.
    while not await asyncio.to_thread(release.exists):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await _touch(directory / f"{name}.done.{os.getpid()}")


def _append_tick(path: Path) -> None:
    with path.open("a") as ticks:
        ticks.write(f"{time.time()} {os.getpid()}\n")


async def _tick(directory: Path, args: JobArgs) -> None:
    await asyncio.to_thread(_append_tick, directory / "ticks")


def register(jobs: JobQueue, directory: Path, *, ticks: bool) -> None:
    jobs.register(NOTE, partial(_note, directory))
    jobs.register(BLOCK, partial(_block, directory))
    if ticks:
        jobs.register_periodic(TICK, partial(_tick, directory), every_seconds=1)


async def provide(container: Container, settings: Settings) -> None:
    directory = Path(os.environ[DIRECTORY_ENV])
    register(container[JOBS], directory, ticks=TICKS_ENV in os.environ)

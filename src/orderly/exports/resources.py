"""What exports adds to the container: its jobs (the run, the sweeper, the purge)."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.exports import tasks
from orderly.exports.flows import PURGE_JOB, RUN_JOB, SWEEP_JOB

SWEEP_EVERY_SECONDS = 60.0
PURGE_EVERY_SECONDS = 3600.0


async def provide(container: Container, settings: Settings) -> None:
    jobs = container[JOBS]
    jobs.register(RUN_JOB, partial(tasks.run, container))
    jobs.register_periodic(
        SWEEP_JOB, partial(tasks.sweep, container), every_seconds=SWEEP_EVERY_SECONDS
    )
    jobs.register_periodic(
        PURGE_JOB, partial(tasks.purge, container), every_seconds=PURGE_EVERY_SECONDS
    )

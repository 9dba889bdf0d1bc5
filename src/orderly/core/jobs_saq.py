"""The job port on SAQ and Redis: scale-out mode's engine (README "Jobs and the worker").

``SaqJobQueue`` is what every process of a scale-out deployment enqueues through; a
``SaqWorker`` takes the jobs and runs them (``orderly worker``, or the API process
itself when ``APP_WORKER_IN_PROCESS`` is true). The handlers are the ones embedded mode
runs in process.

What SAQ guarantees, and what this module adds to it:

- At least once. A worker moves a job atomically from the queue to the active list
  (BLMOVE) and marks it complete only after the handler has returned. The sweep (one
  worker per ``SWEEP_SECONDS``) puts back an active job whose timeout or heartbeat has
  expired: a worker that died (SIGKILL, lost host) leaves its job to be run again. SAQ
  leaves the heartbeat to the handler; ``_beating`` sends one every third of
  ``HEARTBEAT_SECONDS`` while the handler runs, so a long job is not taken for dead.
- Retries: a failing handler is retried (``RETRIES`` attempts in all) with exponential
  backoff and jitter; delays use SAQ's ``scheduled`` (epoch seconds, rounded up so a
  job never runs early).
- Periodic jobs are SAQ ``CronJob``s. A cron run's job key is ``cron:<name>``, and
  enqueueing a key that is still waiting or running is a no-op: with N workers the job
  runs once per period.
- Shutdown (SIGTERM, or the app closing): no new job is taken (the waiting BLMOVEs are
  interrupted: a job the server moved to the active list at that very instant is put
  back by the sweep), running jobs get the grace period, then are cancelled and put
  back in the queue for another worker.

Keys: ``saq:<APP_REDIS_PREFIX>jobs:*`` and ``saq:job:<APP_REDIS_PREFIX>jobs:*`` (SAQ
puts its own prefix first).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from typing import Any, cast

import structlog
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from saq import CronJob, Status, Worker
from saq import Job as SaqJob
from saq.queue.redis import RedisQueue
from saq.types import Context, Function

from orderly.core.container import Key
from orderly.core.failures import FailureCounts
from orderly.core.jobs import Job, JobArgs, JobHandler, failure_kind, json_args

logger = structlog.get_logger("orderly.jobs")

# A handler still running after this long is cancelled and retried: longer than any
# job Orderly has (an export of a large tenant included), short enough that a stuck
# one does not hold a worker slot for long.
TIMEOUT_SECONDS = 600
# A running job whose worker has not been heard of for this long is taken for dead and
# run again. The beat comes every third of it, so two lost beats (a loaded machine, a
# Redis blip) do not make a job run twice.
HEARTBEAT_SECONDS = 15
RETRIES = 5  # attempts in all, the first included
RETRY_DELAY_SECONDS = 1.0
MAX_RETRY_DELAY_SECONDS = 300.0
PERIODIC_RETRIES = 2  # a crashed periodic run is run once more; then the next period
FINISHED_TTL_SECONDS = 3600  # how long a finished job's record stays readable in Redis
SWEEP_SECONDS = 5
# BLMOVE waits this long for a job before asking again; the worker's connections allow
# it on top of the usual socket timeout.
DEQUEUE_TIMEOUT_SECONDS = 5.0
CLOSE_TIMEOUT_SECONDS = 2.0  # redis-py's pub/sub close can hang (redis/redis-py#3941)

SaqFunction = Callable[..., Coroutine[Any, Any, None]]

# SAQ's sweep script: one worker per ``lock`` seconds reads the active jobs.
_SWEEP_ACTIVE = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


def queue_name(redis_prefix: str) -> str:
    return f"{redis_prefix}jobs"


def cron_of(every_seconds: float) -> str:
    """A cron expression (croniter's, with seconds as a sixth field) firing every
    ``every_seconds`` on the clock's boundaries, so every worker names the same instants.
    The period must divide a minute, an hour or a day."""
    seconds = int(every_seconds)
    if seconds != every_seconds or seconds <= 0:
        raise ValueError(f"every_seconds must be a positive whole number, not {every_seconds}")
    if seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    minutes, rest = divmod(seconds, 60)
    if rest == 0 and minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *"
    hours, rest = divmod(seconds, 3600)
    if rest == 0 and hours <= 24 and 24 % hours == 0:
        return f"0 */{hours} * * *"
    raise ValueError(f"every_seconds={seconds} divides neither a minute, an hour nor a day")


def scheduled_at(delay_seconds: float, now: float | None = None) -> int:
    """SAQ's ``scheduled`` (whole epoch seconds; 0 = now), rounded up: never early."""
    if delay_seconds <= 0:
        return 0
    return math.ceil((time.time() if now is None else now) + delay_seconds)


async def _beating(job: SaqJob) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS / 3)
        try:
            await job.update()  # stamps ``touched``: the sweep sees the job is alive
        except Exception as exc:  # the next beat may get through; the sweep decides
            logger.warning("job_heartbeat_failed", job=job.function, error=type(exc).__name__)


def _saq_function(name: str, handler: JobHandler, failures: FailureCounts) -> SaqFunction:
    async def run(ctx: Context, **kwargs: Any) -> None:
        job = ctx.get("job")
        beat = asyncio.create_task(_beating(job)) if job is not None else None
        if job is not None and job.attempts > 1:
            logger.info("job_attempt", job=name, attempt=job.attempts, previous_error=job.error)
        try:
            await handler(kwargs)
        except Exception:
            failures.count(failure_kind(name))
            raise  # SAQ logs it (bounded traceback) and retries while attempts are left
        finally:
            if beat is not None:
                beat.cancel()

    # SAQ names functions (and cron keys) by ``__qualname__``.
    run.__name__ = run.__qualname__ = name
    return run


class SaqJobQueue:
    """Enqueues through the process's shared Redis client; ``worker()`` opens its own
    connections (``worker_redis``), since each concurrent BLMOVE holds one."""

    def __init__(
        self,
        redis: Redis,
        *,
        name: str,
        failures: FailureCounts,
        worker_redis: Callable[[], Redis],
    ) -> None:
        self.name = name
        self._queue = RedisQueue(redis, name=name)
        self._failures = failures
        self._worker_redis = worker_redis
        self._functions: dict[str, SaqFunction] = {}
        self._cron: list[CronJob[Context]] = []

    def register(self, name: str, handler: JobHandler) -> None:
        if name in self._functions:
            raise ValueError(f"job {name!r} has a handler already")
        self._functions[name] = _saq_function(name, handler, self._failures)

    def register_periodic(self, name: str, handler: JobHandler, *, every_seconds: float) -> None:
        cron = cron_of(every_seconds)
        self.register(name, handler)
        self._cron.append(
            CronJob(
                self._functions[name],
                cron=cron,
                timeout=TIMEOUT_SECONDS,
                heartbeat=HEARTBEAT_SECONDS,
                retries=PERIODIC_RETRIES,
                ttl=FINISHED_TTL_SECONDS,
            )
        )

    async def enqueue(self, *jobs: Job) -> None:
        unknown = [job.name for job in jobs if job.name not in self._functions]
        if unknown:  # all known and all JSON, or none is sent
            raise LookupError(f"no handler for job {unknown[0]!r}")
        batch = [self._saq_job(job.name, json_args(job.args), job.delay_seconds) for job in jobs]
        for saq_job in batch:
            await self._queue.enqueue(saq_job)

    @staticmethod
    def _saq_job(name: str, args: JobArgs, delay_seconds: float) -> SaqJob:
        return SaqJob(
            function=name,
            kwargs=dict(args),
            timeout=TIMEOUT_SECONDS,
            heartbeat=HEARTBEAT_SECONDS,
            retries=RETRIES,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=MAX_RETRY_DELAY_SECONDS,
            ttl=FINISHED_TTL_SECONDS,
            scheduled=scheduled_at(delay_seconds),
        )

    def worker(self, *, concurrency: int, grace_seconds: float) -> SaqWorker:
        return SaqWorker(self, concurrency=concurrency, grace_seconds=grace_seconds)

    def _build_worker(self, *, concurrency: int, grace_seconds: float) -> _Worker:
        queue = _WorkerQueue(self._worker_redis(), name=self.name)
        return _Worker(
            queue,
            self._functions,
            concurrency=concurrency,
            cron_jobs=self._cron,
            timers={"sweep": SWEEP_SECONDS},
            dequeue_timeout=DEQUEUE_TIMEOUT_SECONDS,
            shutdown_grace_period_s=max(1, math.ceil(grace_seconds)),
        )


class SaqWorker:
    """A SAQ worker over the queue's registered functions and periodic jobs, run as a
    task of this process: a ``JobRunner``. Signals are the process's business (uvicorn's
    in the API, ``orderly worker``'s own), which calls ``stop()``."""

    def __init__(self, jobs: SaqJobQueue, *, concurrency: int, grace_seconds: float) -> None:
        self._worker = jobs._build_worker(concurrency=concurrency, grace_seconds=grace_seconds)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        queue = self._worker.queue
        try:
            await queue.connect()
            await self._worker.start()
        finally:
            await self._worker.close_connections()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="saq_worker")

    async def wait(self) -> None:
        """Until the worker ends: after ``stop()``, or if it failed (then raises)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Take no new job; running ones get the grace period, then go back to the
        queue; returns once the worker has ended."""
        await self._worker.stop()
        if self._task is not None:
            await self._task


class _WorkerQueue(RedisQueue):
    """The worker's queue, on connections of its own, whose waits for a job can be cut
    short at shutdown and which does not spin while Redis is away."""

    def __init__(self, redis: Redis, *, name: str) -> None:
        super().__init__(redis, name=name)
        self._waiting: set[asyncio.Task[Any]] = set()
        self._sweep_script: AsyncScript | None = None
        self._suspects: dict[bytes, tuple[int, int, int]] = {}

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 - SAQ's signature, overridden
        poll_interval: float = 0.0,
    ) -> SaqJob | None:
        task = asyncio.current_task()
        if task is not None:
            self._waiting.add(task)
        try:
            return await super().dequeue(timeout, poll_interval)
        except RedisError as exc:
            # SAQ asks again at once: without a pause, ten tasks would hammer a Redis
            # that is restarting.
            logger.warning("job_dequeue_failed", error=type(exc).__name__)
            await asyncio.sleep(1.0)
            return None
        finally:
            if task is not None:
                self._waiting.discard(task)

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """SAQ's sweep (saq 0.26 ``RedisQueue.sweep``) but for one race, which loses jobs.

        A job in the active list whose status is not yet ``active`` is either one a
        worker has just taken (BLMOVE done, its status update a millisecond away) or one
        whose worker died in that millisecond. SAQ sweeps it at once: it aborts a job
        that is about to run, and retries it only after waiting ``abort`` seconds for
        the abort; should the sweeping worker die meanwhile, the job is in no list at
        all. It happened at every worker start with jobs waiting (the first sweep and
        the first dequeues run together; tests/test_worker.py lost its job that way).
        Here such a job is swept only if this worker's previous sweep saw it so too,
        unchanged: a worker updates it within milliseconds, a dead one never does.
        """
        if self._sweep_script is None:
            self._sweep_script = self.redis.register_script(_SWEEP_ACTIVE)
        found = await self._sweep_script(keys=[self._sweep, self._active], args=[lock])
        suspects, self._suspects = self._suspects, {}
        swept: list[str] = []
        for job_id, job_bytes in found:
            job = self.deserialize(job_bytes)
            if job is None:
                swept.append(job_id.decode())
                await self._forget(job_id)
                continue
            if job.status == Status.ACTIVE and not job.stuck:
                continue
            if job.status != Status.ACTIVE:
                seen = (job.attempts, job.queued, job.touched)
                if suspects.get(job_id) != seen:
                    self._suspects[job_id] = seen
                    continue
            swept.append(job_id.decode())
            await self._sweep_job(job, abort)
        return swept

    async def _forget(self, job_id: bytes) -> None:
        key = job_id.decode()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 0, key)
            pipe.zrem(self._incomplete, key)
            await pipe.execute()
        logger.warning("job_swept_missing", job_id=job_id.decode())

    async def _sweep_job(self, job: SaqJob, abort: float) -> None:
        """What SAQ does with a job it sweeps: abort it, wait a little for that, then
        retry it (attempts left) or finish it as aborted."""
        logger.info("job_swept", job=job.function, key=job.key, status=job.status.value)
        await self.abort(job, error=self.swept_error_message)
        with suppress(TimeoutError):
            await job.refresh(abort)
        if job.retryable:
            await self.retry(job, error=self.swept_error_message)
        else:
            await self.finish(job, Status.ABORTED, error=self.swept_error_message)

    def interrupt_waiting(self) -> None:
        for task in list(self._waiting):
            task.cancel()

    async def close_connections(self) -> None:
        """SAQ's ``disconnect`` stops at its first error (its pub/sub's goodbye to a
        Redis that is gone), leaving the pool's sockets open: they are ours, closed
        here whatever happened before."""
        with suppress(Exception):
            await asyncio.wait_for(self.disconnect(), CLOSE_TIMEOUT_SECONDS)
        with suppress(Exception):
            await asyncio.wait_for(self.redis.connection_pool.disconnect(), CLOSE_TIMEOUT_SECONDS)


class _Worker(Worker[Context]):
    def __init__(
        self,
        queue: _WorkerQueue,
        registry: dict[str, SaqFunction],
        **options: Any,
    ) -> None:
        functions = list(registry.items())
        super().__init__(queue, functions, **options)
        # The queue's own registry, not a copy: a handler registered after the worker
        # started (a test's, a late provider's) is found too.
        self.functions = cast(dict[str, Function[Context]], registry)
        self._own_queue = queue
        self._stop_requested = False
        # The process owns its signals (uvicorn in the API, the CLI in `orderly worker`)
        # and calls stop(); SAQ's handlers would replace theirs.
        self.SIGNALS = []

    async def close_connections(self) -> None:
        await self._own_queue.close_connections()

    async def start(self) -> None:
        # SAQ's start() makes a new stop event: a stop() that came first would be lost
        # and the worker would run on (an app closed as soon as it was opened).
        if not self._stop_requested:
            await super().start()

    async def stop(self) -> None:
        """Take no new job: the waits for one end now, not after ``DEQUEUE_TIMEOUT``."""
        if not self._stop_requested:
            logger.info("worker_stopping", running_jobs=len(self.job_task_contexts))
        self._stop_requested = True
        self.event.set()
        self._own_queue.interrupt_waiting()
        await super().stop()

    async def upkeep(self) -> list[asyncio.Task[None]]:
        """SAQ's upkeep loops (abort, schedule, sweep, worker info), except that their
        pause ends when the worker stops: SAQ's ``asyncio.sleep`` held every shutdown
        up to the longest timer. An iteration under way is never cut (a sweep cut
        half-way could lose the job it was moving)."""
        timers = self.timers
        return [
            asyncio.create_task(self._every("abort", self.abort, timers["abort"])),
            asyncio.create_task(self._every("schedule", self.schedule, timers["schedule"])),
            asyncio.create_task(self._every("sweep", self.queue.sweep, timers["sweep"])),
            asyncio.create_task(
                self._every(
                    "worker_info",
                    self.worker_info,
                    timers["worker_info"],
                    timers["worker_info"] + 1,
                )
            ),
        ]

    async def _every(
        self,
        name: str,
        func: Callable[[int], Awaitable[object]],
        seconds: int,
        arg: int | None = None,
    ) -> None:
        while not self.event.is_set():
            try:
                await func(arg or seconds)
            except RedisError as exc:  # Redis away: a line, not a traceback, per second
                logger.warning("job_upkeep_failed", upkeep=name, error=type(exc).__name__)
            except Exception:
                logger.exception("job_upkeep_failed", upkeep=name)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), seconds)


SAQ_JOBS: Key[SaqJobQueue] = Key("jobs.saq")

"""`orderly worker` as a separate process (scale-out: the test's PostgreSQL database and
a throwaway Redis of its own), proving the guarantees of SPEC "Jobs and the worker":
a job queued after a commit runs in a worker, a worker killed in the middle of a job
loses nothing, SIGTERM lets the running job finish, and with two workers a periodic job
runs once per period. The jobs are tests/support/worker_jobs.py."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from orderly.app.container import PROVIDERS, open_container
from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.core.migrations import upgrade_to_head
from orderly.core.unit_of_work import unit_of_work
from tests.conftest import TEST_SECRET
from tests.support import worker_jobs
from tests.support.server import session_log
from tests.support.services import create_postgres_database, drop_postgres_database, postgres_url
from tests.support.throwaway import running_redis

pytestmark = pytest.mark.xdist_group("servers")

REPO_ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 20
# Heartbeat (15 s) + sweep (5 s) + SAQ's wait for the abort (5 s), and a loaded machine.
RECOVERY_SECONDS = 120.0
WITHIN_SECONDS = 60.0


@dataclass
class ScaleOut:
    env: dict[str, str]
    jobs_dir: Path
    logs_dir: Path

    def settings(self) -> Settings:
        values: dict[str, object] = {
            "environment": "test",
            "database_url": self.env["APP_DATABASE_URL"],
            "redis_url": self.env["APP_REDIS_URL"],
            "redis_prefix": self.env["APP_REDIS_PREFIX"],
            "secret_key": TEST_SECRET,
            "worker_in_process": False,  # the test enqueues; the worker processes run them
        }
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def scale_out(tmp_path: Path) -> Iterator[ScaleOut]:
    name = create_postgres_database()
    url = postgres_url(name)
    try:
        upgrade_to_head(url)
        with running_redis() as redis:
            jobs_dir, logs_dir = tmp_path / "jobs", tmp_path / "logs"
            jobs_dir.mkdir()
            logs_dir.mkdir()
            env = {
                "APP_ENVIRONMENT": "test",
                "APP_DATABASE_URL": url,
                "APP_REDIS_URL": redis.url,
                "APP_REDIS_PREFIX": f"{name}:",
                "APP_SECRET_KEY": TEST_SECRET,
                "APP_LOG_LEVEL": "INFO",
                "APP_LOG_FORMAT": "json",
                "APP_WORKER_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
                worker_jobs.DIRECTORY_ENV: str(jobs_dir),
            }
            yield ScaleOut(env, jobs_dir, logs_dir)
    finally:
        drop_postgres_database(name)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def logged(self, event: str) -> bool:
        return f'"{event}"' in self.log.read_text()


def start_worker(scale_out: ScaleOut, *, ticks: bool = False) -> Worker:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env = clean | scale_out.env | {"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    if ticks:
        env[worker_jobs.TICKS_ENV] = "1"
    log = scale_out.logs_dir / f"worker-{len(list(scale_out.logs_dir.iterdir()))}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orderly",
                "worker",
                "--provider",
                "tests.support.worker_jobs:provide",
            ],
            cwd=scale_out.logs_dir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, log)


@pytest.fixture
def workers(scale_out: ScaleOut) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=10)
        sink = session_log("worker.log")  # scanned for secrets with the session's logs
        if not isinstance(sink, int):
            with sink:
                sink.write(worker.log.read_bytes())


@asynccontextmanager
async def enqueuer(scale_out: ScaleOut) -> AsyncIterator[Container]:
    """The same container an API process opens, with the test jobs' names known."""

    async def provide(container: Container, settings: Settings) -> None:
        worker_jobs.register(container[JOBS], scale_out.jobs_dir, ticks=False)

    async with open_container(scale_out.settings(), (*PROVIDERS, provide)) as container:
        yield container


async def enqueue(scale_out: ScaleOut, job: str, /, **args: str) -> None:
    async with enqueuer(scale_out) as container, unit_of_work(container) as uow:
        uow.enqueue_job(job, **args)


async def until(condition: object, what: str, within: float = WITHIN_SECONDS) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


def exists(path: Path) -> bool:
    return path.exists()


async def test_a_job_queued_by_a_committed_unit_runs_in_a_worker_process(
    scale_out: ScaleOut, workers: list[Worker]
) -> None:
    workers.append(worker := start_worker(scale_out))
    await enqueue(scale_out, worker_jobs.NOTE, name="hello")
    done = scale_out.jobs_dir / f"hello.{worker.pid}"
    await until(lambda: exists(done), "the worker process ran the job")


async def test_a_job_whose_worker_is_killed_runs_again_in_the_next_worker(
    scale_out: ScaleOut, workers: list[Worker]
) -> None:
    workers.append(first := start_worker(scale_out))
    await enqueue(scale_out, worker_jobs.BLOCK, name="k")
    jobs = scale_out.jobs_dir
    await until(lambda: exists(jobs / f"k.started.{first.pid}"), "the first worker started it")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    (jobs / "k.release").touch()
    workers.append(second := start_worker(scale_out))
    await until(
        lambda: exists(jobs / f"k.done.{second.pid}"),
        "the killed worker's job ran to its end in the next worker",
        within=RECOVERY_SECONDS,
    )
    assert not exists(jobs / f"k.done.{first.pid}")


async def test_sigterm_lets_the_running_job_finish_then_exits_0_and_takes_no_new_job(
    scale_out: ScaleOut, workers: list[Worker]
) -> None:
    workers.append(worker := start_worker(scale_out))
    await enqueue(scale_out, worker_jobs.BLOCK, name="t")
    jobs = scale_out.jobs_dir
    await until(lambda: exists(jobs / f"t.started.{worker.pid}"), "the job started")
    worker.process.send_signal(signal.SIGTERM)
    await until(lambda: worker.logged("worker_stopping"), "the worker began to stop")
    await enqueue(scale_out, worker_jobs.NOTE, name="late")  # queued during the shutdown
    assert worker.process.poll() is None  # still finishing the running job
    (jobs / "t.release").touch()
    assert worker.process.wait(timeout=GRACE_SECONDS + 10) == 0
    assert exists(jobs / f"t.done.{worker.pid}")
    assert not exists(jobs / f"late.{worker.pid}")


async def test_two_workers_run_a_periodic_job_once_per_period(
    scale_out: ScaleOut, workers: list[Worker]
) -> None:
    workers.extend(start_worker(scale_out, ticks=True) for _ in range(2))
    await until(
        lambda: all(worker.logged("worker_started") for worker in workers), "both workers up"
    )
    ticks = scale_out.jobs_dir / "ticks"
    await until(lambda: exists(ticks), "a first run of the periodic job")
    start = time.time()
    await asyncio.sleep(8)  # the window observed: both workers scheduling every second
    end = time.time()
    runs = [float(line.split()[0]) for line in ticks.read_text().splitlines()]
    in_window = [at for at in runs if start <= at < end]
    # Due every second: at most one run per second of the window (two workers each
    # running it would make about twice as many), and it did run.
    assert 3 <= len(in_window) <= int(end - start) + 1, in_window
    assert all(worker.process.poll() is None for worker in workers)


def test_the_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    result = subprocess.run(
        [sys.executable, "-m", "orderly", "worker"],
        cwd=tmp_path,
        env=clean | {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "APP_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

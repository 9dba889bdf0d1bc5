"""Run the app under uvicorn as `orderly serve` does, tuned for a long-lived process.

What belongs to a served process, not to the app, lives here, so that tests and
embedded use of ``create_app`` inherit none of it:

- **Garbage collection** (``tune_gc``): each worker freezes what start-up allocated and
  collects the young generation less often. ``create_served_app`` applies it once the
  app's lifespan has started, in every worker process.
- **Accept handles** (``accept_sockets``). libuv, the loop inside uvloop, accepts one
  connection per loop iteration since 1.45 (libuv/libuv#3696). Under load an iteration
  serves every request that is ready, so connections opened in a burst were accepted
  one per iteration: at 256 connections on one busy worker the last of them waited up
  to three seconds before their first request was even read, while every request
  already accepted was answered in milliseconds. Each duplicate of the listening socket
  is a libuv handle of its own, and each handle accepts one connection per iteration:
  ``ACCEPT_HANDLES`` of them drain a burst that many times faster. When fewer
  connections wait than there are handles, the spare handles' ``accept()`` fails with
  EAGAIN, which costs a syscall each per new connection and nothing at all while
  connections are kept alive.
"""

from __future__ import annotations

import gc
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.importer import import_from_string
from uvicorn.supervisors import Multiprocess

from orderly.core.http_protocol import BoundedHttpToolsProtocol

APP = "orderly.main:create_app"
SERVED_APP = f"{__name__}:create_served_app"  # what uvicorn imports in each worker
ACCEPT_HANDLES = 32
YOUNG_GC_THRESHOLD = 2000
STARTUP_FAILURE = 3  # uvicorn's exit code when the app fails to start
# How long uvicorn's supervisor waits for a worker to answer its health-check ping
# (``Config.timeout_worker_healthcheck``) before it kills the worker as hung, and for a
# restarted worker to be ready. A new worker answers only once its interpreter has
# started and imported ``__main__`` and uvicorn (the ping thread starts after that), and
# a busy one only when that thread gets the GIL. uvicorn's default, 5 s, was shorter
# than that on a loaded 2-core machine (the app import alone took 6-7.6 s there), and
# the supervisor killed and respawned the workers forever. 30 s is four times the worst
# start seen; a worker that cannot answer a ping for half a minute is hung, not slow.
WORKER_HEALTHCHECK_TIMEOUT_SECONDS = 30
_OPTIONS: dict[str, Any] = {
    "factory": True,
    # httptools with a bound on the request head (431 beyond it): see http_protocol.
    "http": BoundedHttpToolsProtocol,
    "log_config": None,  # ours (structlog) is configured by the CLI
    "access_log": False,  # the request middleware writes the access line
    "server_header": False,
    "proxy_headers": True,
    "timeout_graceful_shutdown": 20,
    "timeout_worker_healthcheck": WORKER_HEALTHCHECK_TIMEOUT_SECONDS,
}


def tune_gc() -> None:
    # Everything alive now (modules, models, schemas, routes: ~130k objects) lives as
    # long as the process. Frozen, a full collection under load walks only what requests
    # allocate: bench, cached list at 64 connections, p99 70-95 ms -> 20-27 ms and
    # 13-17 % more req/s (the collections took 50-110 ms each).
    gc.freeze()
    # A young-generation collection every 2,000 net allocations, not CPython's 700: a
    # request allocates thousands of objects, nearly all freed by reference counting.
    # Bench, uncached list on PostgreSQL, 1 worker, c64: 1,362 -> 1,495 req/s (server
    # CPU 730 -> 666 us/request), peak RSS unchanged (137.4 vs 137.7 MB); 5,000 gained
    # nothing more.
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


def create_served_app() -> FastAPI:
    """``create_app()`` whose lifespan tunes the process once the app has started."""
    app: FastAPI = import_from_string(APP)()
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:  # the state, if any, as is
        async with started(app) as state:
            tune_gc()
            yield state

    # The same seam FastAPI's include_router uses to chain a router's lifespan.
    app.router.lifespan_context = lifespan
    return app


def accept_sockets(config: uvicorn.Config, handles: int = ACCEPT_HANDLES) -> list[socket.socket]:
    """The bound listening socket and ``handles - 1`` duplicates of it."""
    listening = config.bind_socket()
    return [listening, *(listening.dup() for _ in range(handles - 1))]


def server_config(host: str, port: int, workers: int) -> uvicorn.Config:
    """The configuration ``run`` serves with (reload aside)."""
    return uvicorn.Config(SERVED_APP, host=host, port=port, workers=workers, **_OPTIONS)


def run(host: str, port: int, workers: int, *, reload: bool = False) -> None:
    if reload:  # development only: uvicorn's reloader watches and restarts one process
        uvicorn.run(SERVED_APP, host=host, port=port, reload=True, **_OPTIONS)
        return
    config = server_config(host, port, workers)
    sockets = accept_sockets(config)
    if workers > 1:
        Multiprocess(config, sockets=sockets).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(STARTUP_FAILURE)

"""Run the app under uvicorn so that a burst of new connections is accepted at once.

libuv, the loop inside uvloop, accepts one connection per loop iteration since 1.45
(libuv/libuv#3696). Under load an iteration serves every request that is ready, so
connections opened in a burst were accepted one per iteration: at 256 connections on
one busy worker the last of them waited up to three seconds before their first request
was even read, while every request already accepted was answered in milliseconds.

Each duplicate of the listening socket is a libuv handle of its own, and each handle
accepts one connection per iteration: ``ACCEPT_HANDLES`` of them drain a burst that
many times faster. When fewer connections wait than there are handles, the spare
handles' ``accept()`` fails with EAGAIN, which costs a syscall each per new connection
and nothing at all while connections are kept alive.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "orderly.main:create_app"
ACCEPT_HANDLES = 32
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
    "log_config": None,  # ours (structlog) is configured by the CLI
    "access_log": False,  # the request middleware writes the access line
    "server_header": False,
    "proxy_headers": True,
    "timeout_graceful_shutdown": 20,
    "timeout_worker_healthcheck": WORKER_HEALTHCHECK_TIMEOUT_SECONDS,
}


def accept_sockets(config: uvicorn.Config, handles: int = ACCEPT_HANDLES) -> list[socket.socket]:
    """The bound listening socket and ``handles - 1`` duplicates of it."""
    listening = config.bind_socket()
    return [listening, *(listening.dup() for _ in range(handles - 1))]


def server_config(host: str, port: int, workers: int) -> uvicorn.Config:
    """The configuration ``run`` serves with (reload aside)."""
    return uvicorn.Config(APP, host=host, port=port, workers=workers, **_OPTIONS)


def run(host: str, port: int, workers: int, *, reload: bool = False) -> None:
    if reload:  # development only: uvicorn's reloader watches and restarts one process
        uvicorn.run(APP, host=host, port=port, reload=True, **_OPTIONS)
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

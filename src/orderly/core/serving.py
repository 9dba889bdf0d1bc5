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

from orderly.core.http_protocol import BoundedHttpToolsProtocol

APP = "orderly.main:create_app"
ACCEPT_HANDLES = 32
STARTUP_FAILURE = 3  # uvicorn's exit code when the app fails to start
_OPTIONS: dict[str, Any] = {
    "factory": True,
    # httptools with a bound on the request head (431 beyond it): see http_protocol.
    "http": BoundedHttpToolsProtocol,
    "log_config": None,  # ours (structlog) is configured by the CLI
    "access_log": False,  # the request middleware writes the access line
    "server_header": False,
    "proxy_headers": True,
    "timeout_graceful_shutdown": 20,
}


def accept_sockets(config: uvicorn.Config, handles: int = ACCEPT_HANDLES) -> list[socket.socket]:
    """The bound listening socket and ``handles - 1`` duplicates of it."""
    listening = config.bind_socket()
    return [listening, *(listening.dup() for _ in range(handles - 1))]


def run(host: str, port: int, workers: int, *, reload: bool = False) -> None:
    if reload:  # development only: uvicorn's reloader watches and restarts one process
        uvicorn.run(APP, host=host, port=port, reload=True, **_OPTIONS)
        return
    config = uvicorn.Config(APP, host=host, port=port, workers=workers, **_OPTIONS)
    sockets = accept_sockets(config)
    if workers > 1:
        Multiprocess(config, sockets=sockets).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(STARTUP_FAILURE)

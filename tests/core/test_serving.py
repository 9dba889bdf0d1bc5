"""A burst of new connections is accepted at once even while the loop is busy.

The server here is uvicorn on uvloop, as `orderly serve` runs it, with an app whose
lifespan keeps every loop iteration busy for 50 ms (as a loaded worker's are). With
one listening handle libuv accepts one connection per iteration; the control test
shows it, so it fails the day libuv accepts greedily again and the workaround can go.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import uvicorn

from orderly.core.serving import (
    ACCEPT_HANDLES,
    APP,
    WORKER_HEALTHCHECK_TIMEOUT_SECONDS,
    accept_sockets,
    server_config,
)

BUSY_ITERATION_S = 0.05
BURST = 64
ACCEPTED_WITHIN_S = 1.0  # ACCEPT_HANDLES: ~2 iterations; one handle: one per 50 ms


async def busy_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """No routes; its lifespan spins for BUSY_ITERATION_S in every loop iteration."""
    if scope["type"] != "lifespan":
        return
    await receive()  # lifespan.startup
    loop = asyncio.get_running_loop()
    spinning = True

    def spin() -> None:
        deadline = time.perf_counter() + BUSY_ITERATION_S
        while time.perf_counter() < deadline:
            pass
        if spinning:
            loop.call_soon(spin)  # runs in the next iteration, not this one

    loop.call_soon(spin)
    await send({"type": "lifespan.startup.complete"})
    await receive()  # lifespan.shutdown
    spinning = False
    await send({"type": "lifespan.shutdown.complete"})


@contextmanager
def busy_server(handles: int) -> Iterator[tuple[uvicorn.Server, int]]:
    config = uvicorn.Config(
        busy_app, host="127.0.0.1", port=0, loop="uvloop", http="httptools", log_level="warning"
    )
    sockets = accept_sockets(config, handles)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield server, sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def accepted_after_burst(server: uvicorn.Server, port: int) -> tuple[int, float]:
    """Open BURST connections at once; how many the server has accepted, and when."""
    with ExitStack() as stack:
        started = time.monotonic()
        for _ in range(BURST):
            # The kernel completes the handshake; the server still has to accept().
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        while time.monotonic() - started < ACCEPTED_WITHIN_S:
            if len(server.server_state.connections) >= BURST:
                return BURST, time.monotonic() - started
            time.sleep(0.01)
        return len(server.server_state.connections), time.monotonic() - started


def test_the_listening_socket_is_duplicated_into_accept_handles() -> None:
    config = uvicorn.Config(busy_app, host="127.0.0.1", port=0)
    sockets = accept_sockets(config)
    try:
        assert len(sockets) == ACCEPT_HANDLES
        assert len({s.fileno() for s in sockets}) == ACCEPT_HANDLES
        assert {s.getsockname() for s in sockets} == {sockets[0].getsockname()}
    finally:
        for each in sockets:
            each.close()


def test_a_busy_server_accepts_a_burst_of_connections_at_once() -> None:
    with busy_server(ACCEPT_HANDLES) as (server, port):
        accepted, seconds = accepted_after_burst(server, port)
    assert accepted == BURST, f"{accepted} of {BURST} accepted in {seconds:.2f} s"


def test_control_one_handle_accepts_one_connection_per_iteration() -> None:
    with busy_server(1) as (server, port):
        accepted, _ = accepted_after_burst(server, port)
    assert accepted < BURST / 2


def test_workers_get_the_deliberate_health_check_timeout_not_uvicorns_default() -> None:
    config = server_config("127.0.0.1", 0, workers=2)
    assert config.timeout_worker_healthcheck == WORKER_HEALTHCHECK_TIMEOUT_SECONDS
    assert uvicorn.Config(APP).timeout_worker_healthcheck < WORKER_HEALTHCHECK_TIMEOUT_SECONDS

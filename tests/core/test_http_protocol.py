"""Request heads are bounded by the server: 431 problem+json, and the server carries on.

These run against a real ``orderly serve`` process (the protocol is uvicorn's, not the
app's), over raw sockets so that the request is exactly what an attacker would send.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orderly.core.http_protocol import CODE, MAX_FIELD_BYTES, MAX_HEAD_BYTES
from tests.support.server import free_port, running_server

KIB = 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("serve")) as url:
        yield url


def _head(headers: list[tuple[str, str]], path: str = "/health/live") -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{n}: {v}" for n, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _exchange(url: str, request: bytes) -> bytes:
    """Send the request (as far as the server reads it), return all it answered."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        # The server may stop reading: its answer (if any) is still to be read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        chunks: list[bytes] = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def _status_and_body(response: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, json.loads(body) if body else {}


def _assert_refused(response: bytes) -> None:
    status, headers, body = _status_and_body(response)
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    assert body["status"] == 431
    assert body["code"] == CODE
    assert body["request_id"] == headers["x-request-id"]


def _assert_live(url: str) -> None:
    assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200


def test_a_64_kib_header_is_431_and_the_server_keeps_answering(server: str) -> None:
    response = _exchange(server, _head([("If-None-Match", "a" + " " * (64 * KIB) + "b")]))
    _assert_refused(response)
    _assert_live(server)


def test_many_headers_together_over_the_total_bound_are_431(server: str) -> None:
    each = MAX_FIELD_BYTES - 100
    headers = [(f"X-Filler-{i}", "v" * each) for i in range(MAX_HEAD_BYTES // each + 1)]
    _assert_refused(_exchange(server, _head(headers)))
    _assert_live(server)


def test_a_header_line_just_over_the_field_bound_is_431(server: str) -> None:
    _assert_refused(_exchange(server, _head([("X-Big", "v" * MAX_FIELD_BYTES)])))


def test_headers_within_the_bounds_are_served(server: str) -> None:
    headers = [(f"X-Filler-{i}", "v" * (MAX_FIELD_BYTES - 100)) for i in range(3)]
    status, _, body = _status_and_body(
        _exchange(server, _head([*headers, ("Connection", "close")]))
    )
    assert (status, body) == (200, {"status": "alive"})


def test_a_1_mib_header_is_cut_off_without_reading_it_all(server: str) -> None:
    # The server stops reading after the bound, so the client may see the 431 or,
    # when the kernel resets the connection over the unread bytes, nothing.
    response = _exchange(server, _head([("X-Huge", "h" * (1024 * KIB))]))
    if response:
        _assert_refused(response)
    _assert_live(server)


def test_a_kept_alive_connection_gets_a_fresh_bound_per_request(server: str) -> None:
    # Two requests of 20 KiB each on one connection: 40 KiB together, fine apart.
    request = _head([("X-Filler", "v" * (MAX_FIELD_BYTES - 100))] * 2)
    response = _exchange(
        server, request + request.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n")
    )
    assert response.count(b"HTTP/1.1 200 OK") == 2


def test_a_request_the_parser_refuses_is_a_problem_400(server: str) -> None:
    # llhttp refuses a NUL in a header value; uvicorn answered that in plain text.
    status, headers, body = _status_and_body(_exchange(server, _head([("If-Match", "a\x00b")])))
    assert (status, body["code"]) == (400, "BAD_REQUEST")
    assert headers["content-type"] == "application/problem+json"
    assert body["request_id"] == headers["x-request-id"]
    _assert_live(server)


# -- the upstream behaviour this works around, and the private API it relies on -------


def test_control_uvicorn_0_54_httptools_accepts_a_1_mib_header() -> None:
    """Fails the day uvicorn bounds headers itself: then this module can go."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = str(sum(len(name) + len(value) for name, value in scope["headers"])).encode()
        length = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": length})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http="httptools", lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        request = _head([("X-Huge", "h" * (1024 * KIB)), ("Connection", "close")], "/")
        response = _exchange(f"http://127.0.0.1:{port}", request)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert response.startswith(b"HTTP/1.1 200")
    assert int(response.partition(b"\r\n\r\n")[2]) > 1024 * KIB


def test_the_overridden_protocol_is_the_pinned_uvicorn_version() -> None:
    assert uvicorn.__version__.startswith("0.54."), "re-check http_protocol.py, then re-pin"
    for name in (
        "data_received",
        "on_message_begin",
        "on_header",
        "on_headers_complete",
        "on_message_complete",
        "send_400_response",
    ):
        assert callable(getattr(HttpToolsProtocol, name)), name

"""Request bodies over APP_MAX_BODY_BYTES are refused with 413 PAYLOAD_TOO_LARGE,
counted while they stream (never read whole first); and the headers this issue adds:
``Cache-Control: no-store`` on responses carrying tokens or keys, ``Permissions-Policy``
everywhere."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from orderly.core.middleware.security_headers import PERMISSIONS_POLICY
from tests.support.api import Account, register
from tests.support.server import running_server

MIB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    app: FastAPI,
) -> None:
    pulled: list[int] = []

    async def receive() -> Message:
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    status, body = await _call(
        app,
        receive,
        [(b"content-length", str(2 * MIB).encode()), (b"content-type", b"application/json")],
    )

    assert status == 413
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert pulled == []  # not one message of the body was read


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(app: FastAPI) -> None:
    """2 MiB sent chunked (no Content-Length) to a JSON route: the app below the limit
    middleware never holds more than the limit plus one message of it."""
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += CHUNK
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": pulled < 2 * MIB}

    status, body = await _call(
        app, receive, [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")]
    )

    assert status == 413
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert body["detail"] == f"The request body is larger than {MIB} bytes."
    assert pulled <= MIB + CHUNK


async def test_a_body_within_the_limit_is_served(
    client: httpx.AsyncClient, owner: Account
) -> None:
    description = "d" * 2000
    created = await client.post(
        "/api/v1/items",
        headers=owner.headers,
        json={
            "sku": "BIG-1",
            "currency": "USD",
            "name": "Big",
            "price": "1.00",
            "stock": 1,
            "description": description,
        },
    )

    assert created.status_code == 201, created.text


async def _call(
    app: FastAPI, receive: object, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, object]]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/items",
        "raw_path": b"/api/v1/items",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert (b"content-type", b"application/problem+json") in start["headers"]
    return start["status"], json.loads(body)


def _chunked(total: int) -> Iterator[bytes]:
    piece = b" " * CHUNK
    for _ in range(total // CHUNK):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.xdist_group("servers")
def test_a_real_server_answers_413_to_a_2_mib_chunked_upload(tmp_path: Path) -> None:
    """Over a socket, as a client streams it. (That the app never holds more than the
    limit is shown in-process above: on loopback the kernel's buffers take the whole
    upload before the server has read much of it, so the client's side proves nothing
    about that.)"""
    with running_server(tmp_path) as url:
        parts = urlsplit(url)
        with socket.create_connection(
            (parts.hostname or "", parts.port or 80), timeout=10
        ) as sock:
            sock.sendall(
                b"POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            answer = _stream_until_answered(sock, _chunked(2 * MIB))

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"application/problem+json" in answer
    assert b"PAYLOAD_TOO_LARGE" in answer


def _stream_until_answered(sock: socket.socket, chunks: Iterator[bytes]) -> bytes:
    """Send chunks until the server answers (or stops reading), then read its answer."""
    for chunk in chunks:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
    received = b""
    try:
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            received += data
    except ConnectionResetError:
        pass
    return received


async def test_every_response_carries_a_permissions_policy(
    client: httpx.AsyncClient, owner: Account
) -> None:
    answers = [
        await client.get("/health/live"),
        await client.get("/api/v1/items", headers=owner.headers),
        await client.get("/api/v1/nothing-here"),
        await client.get("/api/v1/users/me"),
    ]

    assert [a.headers["permissions-policy"] for a in answers] == [PERMISSIONS_POLICY] * 4
    assert "camera=()" in PERMISSIONS_POLICY
    assert "geolocation=()" in PERMISSIONS_POLICY


async def test_responses_with_tokens_or_a_new_key_are_not_stored(
    client: httpx.AsyncClient, owner: Account
) -> None:
    logged_in = await client.post(
        "/api/v1/auth/login", data={"username": owner.email, "password": owner.password}
    )
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": logged_in.json()["refresh_token"]}
    )
    created = await client.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": "k", "scopes": ["read:items"]}
    )
    listed = await client.get("/api/v1/api-keys", headers=owner.headers)

    assert (logged_in.status_code, refreshed.status_code, created.status_code) == (200, 200, 201)
    assert [r.headers["cache-control"] for r in (logged_in, refreshed, created)] == [
        "no-store"
    ] * 3
    assert listed.headers["cache-control"] == "private, no-cache"  # no secret in it

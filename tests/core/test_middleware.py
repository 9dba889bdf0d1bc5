"""Headers on every response, gzip, CORS and trusted hosts (SPEC "Headers on every response")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from orderly.main import create_app
from tests.conftest import PRODUCTION_SECRET, make_settings
from tests.support.services import Backend


async def _client_for(backend: Backend, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(backend, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
            yield ac


@pytest.mark.parametrize("request_id", ["abc-123", "A.b_c-9", "x" * 128])
async def test_a_well_formed_request_id_is_echoed(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("request_id", ["", "x" * 129, "has space", "semi;colon", "ünï"])
async def test_a_malformed_request_id_is_replaced(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get(
        "/health/live", headers=[(b"X-Request-ID", request_id.encode("utf-8"))]
    )
    generated = response.headers["x-request-id"]
    assert generated != request_id
    assert 1 <= len(generated) <= 128


async def test_every_response_has_timing_and_security_headers(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health/live"), await client.get("/nowhere")):
        assert float(response.headers["x-process-time"]) >= 0
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "default-src" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers
        assert "x-xss-protection" not in response.headers


async def test_hsts_is_sent_in_production(backend: Backend) -> None:
    async for client in _client_for(
        backend, environment="production", secret_key=PRODUCTION_SECRET
    ):
        response = await client.get("/health/live")
        assert response.headers["strict-transport-security"].startswith("max-age=")


def _sized_router() -> APIRouter:
    router = APIRouter(prefix="/_size")

    @router.get("/{size}")
    async def sized(size: int) -> dict[str, str]:
        return {"data": "x" * size}

    return router


async def test_large_bodies_are_gzipped_and_small_ones_are_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.include_router(_sized_router())
    gzip = {"Accept-Encoding": "gzip"}
    large = await client.get("/_size/2000", headers=gzip)
    assert large.headers["content-encoding"] == "gzip"
    assert large.json()["data"] == "x" * 2000
    small = await client.get("/_size/100", headers=gzip)
    assert "content-encoding" not in small.headers
    plain = await client.get("/_size/2000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_cors_allows_configured_origins_only(backend: Backend) -> None:
    async for client in _client_for(backend, cors_origins=["https://shop.example"]):
        ok = await client.options(
            "/health/live",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        denied = await client.options(
            "/health/live",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert denied.status_code == 400
        assert denied.headers["content-type"] == "application/problem+json"
        assert denied.json()["code"] == "CORS_PREFLIGHT_REJECTED"
        assert denied.headers["x-request-id"] == denied.json()["request_id"]


async def test_unknown_hosts_are_rejected_with_a_problem(backend: Backend) -> None:
    async for client in _client_for(backend, allowed_hosts=["api.example", "*.orderly.test"]):
        rejected = await client.get("/health/live")  # Host: testserver
        assert rejected.status_code == 400
        assert rejected.json()["code"] == "INVALID_HOST"
        assert "x-request-id" in rejected.headers
        allowed = await client.get("/health/live", headers={"Host": "eu.orderly.test:8000"})
        assert allowed.status_code == 200
        exact = await client.get("/health/live", headers={"Host": "api.example"})
        assert exact.status_code == 200


MALFORMED_HOSTS = [
    "api.example:evil",  # passed as api.example: everything after the colon was dropped
    "api.example:99999",
    "api.example:0",
    "api.example:",
    "api.example:80:80",
    "api.example:+80",
    "api.example:８０",  # noqa: RUF001 - full-width digits are digits to str.isdigit
    "evil/.orderly.test",  # ends with .orderly.test, but is no host name
    "evil.com#.orderly.test",
    "[::1",
    "[::1]x",
    "[zz::1]:80",
    "[fe80::1%eth0]",
    "",
]


async def test_a_malformed_host_header_is_400_invalid_host(backend: Backend) -> None:
    allowed = ["api.example", "*.orderly.test", "[::1]"]
    async for client in _client_for(backend, allowed_hosts=allowed):
        for host in MALFORMED_HOSTS:
            response = await client.get("/health/live", headers=[(b"Host", host.encode("utf-8"))])
            assert response.status_code == 400, host
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "INVALID_HOST", host


async def test_a_well_formed_allowed_host_passes_with_or_without_a_port(backend: Backend) -> None:
    allowed = ["api.example", "*.orderly.test", "[::1]"]
    async for client in _client_for(backend, allowed_hosts=allowed):
        for host in (
            "api.example",
            "API.Example:1",
            "api.example:65535",
            "eu.orderly.test:8000",
            "[::1]",
            "[::1]:8000",
        ):
            response = await client.get("/health/live", headers={"Host": host})
            assert response.status_code == 200, host


async def test_two_host_headers_are_400_invalid_host(backend: Backend) -> None:
    async for client in _client_for(backend, allowed_hosts=["api.example"]):
        response = await client.get(
            "/health/live", headers=[(b"Host", b"api.example"), (b"Host", b"api.example")]
        )
        assert response.status_code == 400
        assert response.json()["code"] == "INVALID_HOST"

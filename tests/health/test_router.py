"""Probes (SPEC "Operations")."""

from __future__ import annotations

import httpx

from orderly.main import create_app
from tests.conftest import make_settings
from tests.support.services import Backend


async def test_live_says_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_ready_checks_every_configured_dependency(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    expected = {"database": "ok"} | ({"redis": "ok"} if backend.redis_url else {})
    assert response.json() == {"status": "ready", "checks": expected}


async def _ready(backend: Backend, **overrides: object) -> httpx.Response:
    # The unreachable side is refused at once; the timeout only has to let the other
    # side answer on a busy machine, so it is generous.
    app = create_app(make_settings(backend, health_timeout_seconds=10.0, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/health/ready")


async def test_ready_is_503_naming_an_unreachable_database(backend: Backend) -> None:
    response = await _ready(backend, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "DEPENDENCY_UNAVAILABLE"
    assert "database" in body["detail"]
    assert "redis" not in body["detail"]


async def test_ready_is_503_naming_an_unreachable_redis(backend: Backend) -> None:
    response = await _ready(backend, redis_url="redis://127.0.0.1:1/0")
    assert response.status_code == 503
    body = response.json()
    assert "redis" in body["detail"]
    assert "database" not in body["detail"]

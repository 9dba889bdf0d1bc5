"""Access lines carry the request id; credentials never reach the log."""

from __future__ import annotations

import json

import httpx
import pytest
import structlog
from fastapi import APIRouter, Request

from orderly.main import create_app
from tests.conftest import make_settings
from tests.support.services import Backend

SECRETS = {
    "bearer": "eyJhbGciOiJIUzI1NiJ9.secret-jwt-payload.signature",
    "api_key": "sk_live_do_not_log_this_key_0123456789",
    "cookie": "session=cookie-value-do-not-log",
    "password": "hunter2-correct-horse",
    "refresh": "refresh-token-value-do-not-log",
}


def _chatty_router() -> APIRouter:
    """A careless handler that logs everything it was given."""
    router = APIRouter()
    logger = structlog.get_logger("careless")

    @router.post("/_careless")
    async def careless(request: Request) -> dict[str, str]:
        body = await request.json()
        logger.info(
            "login_attempt",
            headers=dict(request.headers),
            password=body["password"],
            payload=body,
            refresh_token=body["refresh_token"],
        )
        return {"ok": "yes"}

    return router


async def test_credentials_never_reach_the_log(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(backend, log_level="INFO", log_format="json"))
    app.include_router(_chatty_router(), prefix="/_prefixed")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/_prefixed/_careless",
                headers={
                    "Authorization": f"Bearer {SECRETS['bearer']}",
                    "X-API-Key": SECRETS["api_key"],
                    "Cookie": SECRETS["cookie"],
                    "X-Request-ID": "log-test-1",
                },
                json={"password": SECRETS["password"], "refresh_token": SECRETS["refresh"]},
            )
    assert response.status_code == 200
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert access, output
    assert access[-1]["request_id"] == "log-test-1"
    assert access[-1]["method"] == "POST"
    assert access[-1]["route"] == "/_prefixed/_careless"  # the full template
    assert access[-1]["status"] == 200
    assert access[-1]["duration_ms"] >= 0
    careless = next(line for line in lines if line.get("event") == "login_attempt")
    assert careless["request_id"] == "log-test-1"
    assert careless["password"] == "[REDACTED]"
    for name, value in SECRETS.items():
        assert value not in output, f"{name} leaked into the log"

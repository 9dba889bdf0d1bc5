"""Webhook endpoints through the API (SPEC "Webhooks"): who may manage them, the
secret shown once, tenant isolation, validation and the SSRF guard at save."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.database import DATABASE
from orderly.main import create_app
from orderly.webhooks.policy import WEBHOOK_RESOLVER
from tests.conftest import make_settings
from tests.support.api import add_api_key, add_user, key_headers, register
from tests.support.database import empty_all_tables
from tests.support.parts import part
from tests.support.services import Backend
from tests.webhooks.support import ScriptedResolver, create_endpoint

URL = "http://127.0.0.1:9/hook"  # never called: these tests deliver nothing


async def test_a_new_endpoint_shows_its_secret_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.post(
        "/api/v1/webhooks",
        headers=owner.headers,
        json={"url": URL, "event_types": ["order.*", "item.stock_low", "order.*"]},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert response.headers["location"] == f"/api/v1/webhooks/{created['id']}"
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32
    assert created["event_types"] == ["item.stock_low", "order.*"]
    assert created["enabled"] is True
    assert created["disabled_reason"] is None
    one = await client.get(f"/api/v1/webhooks/{created['id']}", headers=owner.headers)
    listed = await client.get("/api/v1/webhooks", headers=owner.headers)
    assert one.status_code == listed.status_code == 200
    assert "secret" not in one.json()
    assert [e["id"] for e in listed.json()["items"]] == [created["id"]]
    assert secret not in one.text + listed.text


async def test_owners_admins_and_keys_with_the_scope_manage_webhooks(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    member = await add_user(client, owner, "member")
    manager = await add_api_key(client, owner, ["manage:webhooks"])
    reader = await add_api_key(client, owner, ["read:orders"])
    await create_endpoint(client, admin.headers, URL)
    await create_endpoint(client, key_headers(manager["key"]), URL)
    refused = await client.get("/api/v1/webhooks", headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    scoped = await client.get("/api/v1/webhooks", headers=key_headers(reader["key"]))
    assert scoped.status_code == 403
    assert scoped.json()["code"] == "INSUFFICIENT_SCOPE"


async def test_another_tenants_endpoint_is_not_found(client: httpx.AsyncClient) -> None:
    mine = await register(client, "Mine")
    theirs = await register(client, "Theirs")
    endpoint = await create_endpoint(client, theirs.headers, URL)
    base = f"/api/v1/webhooks/{endpoint['id']}"
    delivery = f"{base}/deliveries/dlv_{'0' * 24}"
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"enabled": False}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/deliveries", None),
        ("GET", f"{delivery}/attempts", None),
        ("POST", f"{delivery}/redeliver", None),
        ("POST", f"{base}/recover", {"since": "2026-01-01T00:00:00Z"}),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, headers=mine.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "WEBHOOK_NOT_FOUND"
    listed = await client.get("/api/v1/webhooks", headers=mine.headers)
    assert listed.json()["items"] == []
    still = await client.get(base, headers=theirs.headers)
    assert still.status_code == 200
    assert still.json()["enabled"] is True


async def test_an_endpoint_changes_and_is_deleted(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, URL, ["order.*"])
    path = f"/api/v1/webhooks/{endpoint['id']}"
    changed = await client.patch(
        path,
        headers=owner.headers,
        json={"event_types": ["*"], "enabled": False, "description": "warehouse"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["event_types"], body["enabled"], body["description"]) == (
        ["*"],
        False,
        "warehouse",
    )
    assert body["url"] == URL
    assert (await client.delete(path, headers=owner.headers)).status_code == 204
    assert (await client.get(path, headers=owner.headers)).status_code == 404
    assert (await client.delete(path, headers=owner.headers)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL, "event_types": []},
        {"url": URL, "event_types": ["order"]},
        {"url": URL, "event_types": ["order.**"]},
        {"url": URL, "event_types": ["*.created"]},
        {"url": "", "event_types": ["*"]},
        {"url": URL, "event_types": ["*"], "secret": "whsec_mine"},
    ],
)
async def test_malformed_endpoints_are_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    owner = await register(client)
    response = await client.post("/api/v1/webhooks", headers=owner.headers, json=body)
    assert response.status_code == 422, response.text


async def test_a_null_url_in_a_change_is_422(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, URL)
    response = await client.patch(
        f"/api/v1/webhooks/{endpoint['id']}", headers=owner.headers, json={"url": None}
    )
    assert response.status_code == 422


async def test_rotating_gives_a_new_secret_and_a_24_hour_overlap(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, URL)
    response = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != endpoint["secret"]
    overlap = datetime.fromisoformat(rotated["previous_secret_expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)


@pytest.fixture
async def guarded_client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the SSRF guard on (as in production), on a scripted resolver."""
    settings: Settings = make_settings(backend, webhook_allow_private_networks=False)
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        container = app.state.container
        container.replace(
            WEBHOOK_RESOLVER,
            ScriptedResolver(
                {"hooks.example.test": ["8.8.8.8"], "rebind.example.test": ["10.0.0.1"]}
            ),
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
            yield ac
        await empty_all_tables(part(app, DATABASE).engine)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",  # 169.254.169.254, IPv4-mapped
        "http://100.64.0.1/hook",
        "http://rebind.example.test/hook",
        "http://nowhere.example.test/hook",
    ],
)
async def test_a_url_reaching_a_non_public_address_is_refused_at_save(
    guarded_client: httpx.AsyncClient, url: str
) -> None:
    owner = await register(guarded_client)
    response = await guarded_client.post(
        "/api/v1/webhooks", headers=owner.headers, json={"url": url, "event_types": ["*"]}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "WEBHOOK_URL_NOT_ALLOWED"
    assert response.json()["errors"][0]["field"] == "body.url"


async def test_a_public_url_is_accepted_and_a_change_to_a_private_one_refused(
    guarded_client: httpx.AsyncClient,
) -> None:
    owner = await register(guarded_client)
    endpoint = await create_endpoint(
        guarded_client, owner.headers, "http://hooks.example.test/orderly"
    )
    response = await guarded_client.patch(
        f"/api/v1/webhooks/{endpoint['id']}",
        headers=owner.headers,
        json={"url": "http://rebind.example.test/hook"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "WEBHOOK_URL_NOT_ALLOWED"
    kept = await guarded_client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=owner.headers)
    assert kept.json()["url"] == "http://hooks.example.test/orderly"

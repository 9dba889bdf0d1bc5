"""OpenAPI and the offline docs pages (SPEC "Operations")."""

from __future__ import annotations

import httpx

from orderly.main import create_app
from tests.conftest import PRODUCTION_SECRET, make_settings
from tests.support.services import Backend


async def test_openapi_document_describes_the_service(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    info = document["info"]
    assert info["title"] == "Orderly"
    assert info["version"]
    assert "problem+json" in info["description"]
    assert info["contact"]["name"]
    assert info["license"]["name"] == "MIT"
    assert all(tag.get("description") for tag in document["tags"])


PUBLIC_OPERATIONS = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
}


async def test_openapi_names_the_credentials_of_every_protected_operation(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["Bearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"
    assert schemes["Bearer"]["flows"]["password"]["refreshUrl"] == "/api/v1/auth/refresh"
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "`sk_...` key from `POST /api/v1/api-keys`.",
    }
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert len(operations) > len(PUBLIC_OPERATIONS) + 15
    for key, operation in operations.items():
        if key in PUBLIC_OPERATIONS:
            # Public by decision, and said so: an empty requirement (no credentials).
            assert operation["security"] == [{}], key
        else:
            assert operation["security"] == [{"Bearer": []}, {"ApiKey": []}], key


async def test_docs_pages_load_their_assets_from_this_app(client: httpx.AsyncClient) -> None:
    for page, asset_names in (
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
        ("/redoc", ("redoc.standalone.js",)),
    ):
        html = (await client.get(page)).text
        assert "cdn" not in html.lower()
        assert "fonts.googleapis" not in html
        for name in asset_names:
            assert f"/docs-assets/{name}" in html
            asset = await client.get(f"/docs-assets/{name}")
            assert asset.status_code == 200
            assert len(asset.content) > 10_000


async def test_docs_and_openapi_are_off_in_production(backend: Backend) -> None:
    app = create_app(
        make_settings(backend, environment="production", secret_key=PRODUCTION_SECRET)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui.css"):
                response = await client.get(path)
                assert response.status_code == 404, path
                assert response.headers["content-type"] == "application/problem+json"


async def test_every_operation_documents_the_problems_answered_at_the_edge(
    client: httpx.AsyncClient,
) -> None:
    # INVALID_HOST (400) and REQUEST_HEADER_FIELDS_TOO_LARGE (431) come before routing.
    document = (await client.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in ("400", "431"):
                entry = operation["responses"].get(status)
                assert entry is not None, (method, path, status)
                assert "application/problem+json" in entry["content"], (method, path, status)
    assert "REQUEST_HEADER_FIELDS_TOO_LARGE" in str(document)
    assert "JSON_TOO_DEEP" in str(document)

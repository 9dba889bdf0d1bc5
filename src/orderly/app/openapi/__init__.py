"""The OpenAPI document: its metadata (what clients read first), and the rules that
make every operation tell the truth, generated from the code of each route
(``document_api``; tests/test_openapi_contract.py walks the result)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from orderly.app.openapi.errors import add_errors
from orderly.app.openapi.headers import add_headers
from orderly.app.openapi.links import add_links
from orderly.app.openapi.routes import documented_routes
from orderly.app.openapi.security import add_security

DESCRIPTION = """
Orderly is a multi-tenant order-management API: a catalog of items with stock,
orders that never oversell, users with roles, and API keys with scopes.

**Errors** are RFC 9457 problem+json with a stable `code` and the `request_id`
that is also in the `X-Request-ID` header. **Lists** are cursor-paginated
(`limit`, `cursor` → `next_cursor`). **Retries** are safe with an `Idempotency-Key`.
**Limits**: a JSON body nests at most 32 levels (deeper: 422 `JSON_TOO_DEEP`); a
header line is at most 8 KiB and all headers at most 32 KiB (else 431
`REQUEST_HEADER_FIELDS_TOO_LARGE`); a request body is at most `APP_MAX_BODY_BYTES`
(1 MiB by default; else 413 `PAYLOAD_TOO_LARGE`). **Rate limits**: per user or API key
by the tenant's plan, and per client IP and account on the auth routes; limited
responses carry `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10),
and a refused request gets 429 `RATE_LIMITED` with `Retry-After`. **Plans** limit
counts and features: 402 `PLAN_LIMIT_REACHED` / `PLAN_UPGRADE_REQUIRED`.

Authenticate with `Authorization: Bearer <access token>` (from `POST /api/v1/auth/login`)
or `X-API-Key: sk_…`.
"""

TAGS: list[dict[str, Any]] = [
    {"name": "auth", "description": "Register a tenant, log in, refresh and revoke tokens."},
    {"name": "users", "description": "Staff of a tenant and their roles (owners and admins)."},
    {"name": "api-keys", "description": "Keys for integrations, with scopes."},
    {"name": "items", "description": "The catalog: items with price and stock."},
    {"name": "orders", "description": "Orders that reserve stock atomically."},
    {"name": "tenant", "description": "The caller's tenant: its plan, limits and usage."},
    {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
]

CONTACT = {"name": "Orderly maintainers", "email": "maintainers@orderly.dev"}
LICENSE = {"name": "MIT", "identifier": "MIT"}
# Relative: the document is served by the deployment it describes, whatever its host.
SERVERS: list[dict[str, Any]] = [
    {
        "url": "/",
        "description": "The deployment serving this document (local, staging or "
        "production alike).",
        "x-internal": False,
    }
]


def document_api(app: FastAPI) -> None:
    """Build the document once from the routes, then apply the rules that make it tell
    the truth (each module says what it adds): security, errors, headers, links."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        routes = list(documented_routes(app, schema))
        add_security(schema, routes)
        add_errors(schema, routes)
        add_headers(routes)
        add_links(routes)
        schema["servers"] = SERVERS
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

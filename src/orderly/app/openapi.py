"""OpenAPI metadata: what clients read first."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from orderly.core.access import SECURITY_SCHEMES, get_principal

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


def document_security(app: FastAPI) -> None:
    """Name the accepted credentials on every operation that requires them.

    FastAPI documents security from security-scheme *dependencies*; ``get_principal``
    reads the headers itself (two dependency nodes fewer on every request, see
    ``orderly.core.access``), so the schemes are added to the schema here, on
    exactly the routes that depend on ``get_principal``: the same document as before.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        alternatives: list[dict[str, list[str]]] = [
            {scheme.scheme_name: []} for scheme in SECURITY_SCHEMES
        ]
        # Included routers are resolved lazily (FastAPI 0.16x): walk the effective routes.
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, APIRoute) and _authenticated(route):
                operations = schema["paths"][route.path_format]
                for method in route.methods or ():
                    operations[method.lower()]["security"] = alternatives
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        for scheme in SECURITY_SCHEMES:
            schemes[scheme.scheme_name] = jsonable_encoder(
                scheme.model, by_alias=True, exclude_none=True
            )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _authenticated(route: RouteContext) -> bool:
    return any(dep.dependency is get_principal for dep in route.dependencies)

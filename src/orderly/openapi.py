"""OpenAPI metadata: what clients read first."""

from __future__ import annotations

from typing import Any

DESCRIPTION = """
Orderly is a multi-tenant order-management API: a catalog of items with stock,
orders that never oversell, users with roles, and API keys with scopes.

**Errors** are RFC 9457 problem+json with a stable `code` and the `request_id`
that is also in the `X-Request-ID` header. **Lists** are cursor-paginated
(`limit`, `cursor` → `next_cursor`). **Retries** are safe with an `Idempotency-Key`.

Authenticate with `Authorization: Bearer <access token>` (from `POST /api/v1/auth/login`)
or `X-API-Key: sk_…`.
"""

TAGS: list[dict[str, Any]] = [
    {"name": "auth", "description": "Register a tenant, log in, refresh and revoke tokens."},
    {"name": "users", "description": "Staff of a tenant and their roles (owners and admins)."},
    {"name": "api-keys", "description": "Keys for integrations, with scopes."},
    {"name": "items", "description": "The catalog: items with price and stock."},
    {"name": "orders", "description": "Orders that reserve stock atomically."},
    {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
]

CONTACT = {"name": "Orderly maintainers", "email": "maintainers@orderly.dev"}
LICENSE = {"name": "MIT", "identifier": "MIT"}

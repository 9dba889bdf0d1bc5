"""OpenAPI descriptions of the problem+json errors a route can answer with."""

from __future__ import annotations

from typing import Any

from orderly.core.problems import PROBLEM_MEDIA_TYPE

_DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` ETag is current.",
    400: "Bad request: `INVALID_HOST` (a malformed Host header, or one this service does "
    "not answer to), or a body that cannot be read.",
    401: "Missing, invalid, expired or revoked credentials.",
    402: "The tenant's plan does not include this.",
    403: "Authenticated, but the role or API-key scope does not allow this.",
    404: "Not found (also for resources of other tenants).",
    409: "Conflicts with the current state.",
    412: "`If-Match` does not match the current ETag.",
    422: "Invalid input; `errors` lists each field (`JSON_TOO_DEEP`: a JSON body nested "
    "deeper than 32 levels).",
    429: "Rate limited; see `Retry-After`.",
    431: "`REQUEST_HEADER_FIELDS_TOO_LARGE`: a header line longer than 8 KiB, or request "
    "line and headers longer than 32 KiB (the server closes the connection).",
    502: "An upstream service failed.",
    503: "Temporarily unavailable; see `Retry-After`.",
}

_EXAMPLE = {
    "type": "about:blank",
    "title": "Not Found",
    "status": 404,
    "detail": "Order 'ord_...' was not found",
    "code": "ORDER_NOT_FOUND",
    "instance": "/api/v1/orders/ord_...",
    "request_id": "3f1c0c0e8c1a4f0e9b7f4b6f1f0d2a11",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given error statuses (422 is added by FastAPI)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, "Error.")}
        if status != 304:
            entry["content"] = {PROBLEM_MEDIA_TYPE: {"example": {**_EXAMPLE, "status": status}}}
        out[status] = entry
    return out


AUTHENTICATED = problems(401, 403)
# What any route can answer before it is reached (Host check, request-head bound).
EDGE = problems(400, 431)


# Tenant data may be cached only by the client that fetched it, must be revalidated,
# and differs per credential (a shared cache must never serve it to someone else).
TENANT_DATA_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}

"""Security requirements: the accepted credentials on every operation that requires
them, and an explicit "none" (``[{}]``) on the public ones.

FastAPI documents security from security-scheme *dependencies*; ``get_principal``
reads the headers itself (two dependency nodes fewer on every request, see
``orderly.core.access``), so the schemes are added here, on exactly the routes whose
dependency tree holds ``get_principal``.
"""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder

from orderly.app.openapi.routes import DocumentedRoute
from orderly.core.access import SECURITY_SCHEMES, get_principal

# An empty requirement: callable without credentials, said explicitly (OpenAPI 3.1).
PUBLIC: list[dict[str, list[str]]] = [{}]


def add_security(schema: dict[str, Any], routes: list[DocumentedRoute]) -> None:
    alternatives: list[dict[str, list[str]]] = [
        {scheme.scheme_name: []} for scheme in SECURITY_SCHEMES
    ]
    for route in routes:
        protected = get_principal in route.calls
        route.operation["security"] = alternatives if protected else PUBLIC
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    for scheme in SECURITY_SCHEMES:
        schemes[scheme.scheme_name] = jsonable_encoder(
            scheme.model, by_alias=True, exclude_none=True
        )

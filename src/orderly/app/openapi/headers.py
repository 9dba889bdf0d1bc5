"""Response headers as served.

- ``X-Request-ID`` on every response (required: the request-context middleware sets
  it on everything, errors and 304s included);
- ``Access-Control-Allow-Origin`` on every response, when CORS is configured and the
  request's origin is allowed;
- the success headers a route's dependencies declare (tenant data's ``Cache-Control``
  and ``Vary``, ``X-Idempotent-Replayed``), beside those a route names itself
  (``with_headers``: ``ETag``, ``Location``);
- a rate-limited operation (one that can answer 429) documents ``RateLimit-Policy``
  and ``RateLimit`` on its 2xx and 4xx responses and ``Retry-After`` on its 429;
- ``Retry-After`` on 503 and on 409 (``IDEMPOTENCY_IN_PROGRESS``), ``WWW-Authenticate``
  on 401.
"""

from __future__ import annotations

from typing import Any

from orderly.app.openapi.routes import DocumentedRoute
from orderly.core.responses import HEADERS

EVERY_RESPONSE = ("X-Request-ID", "Access-Control-Allow-Origin")
REQUIRED = frozenset({"X-Request-ID"})
RATE_LIMIT = ("RateLimit-Policy", "RateLimit")
BY_STATUS = {
    "401": ("WWW-Authenticate",),
    "409": ("Retry-After",),
    "429": ("Retry-After",),
    "503": ("Retry-After",),
}


def add_headers(routes: list[DocumentedRoute]) -> None:
    for route in routes:
        responses: dict[str, dict[str, Any]] = route.operation["responses"]
        limited = "429" in responses
        for status, response in responses.items():
            names = [*EVERY_RESPONSE, *BY_STATUS.get(status, ())]
            if status.startswith("2"):
                names.extend(route.success_headers)
            if limited and status[0] in "24":
                names.extend(RATE_LIMIT)
            headers = response.setdefault("headers", {})
            for name in names:
                documented = dict(HEADERS[name])
                if name in REQUIRED:
                    documented["required"] = True
                headers.setdefault(name, documented)

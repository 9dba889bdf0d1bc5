"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs ~60% throughput and breaks
contextvars and streaming). Each one passes non-HTTP scopes straight through and only
touches the ``http.response.start`` message."""

from orderly.core.middleware.body_limit import BodyLimitMiddleware
from orderly.core.middleware.cors import ProblemCORSMiddleware
from orderly.core.middleware.hosts import TrustedHostMiddleware
from orderly.core.middleware.json_depth import JsonDepthMiddleware
from orderly.core.middleware.request_context import RequestContextMiddleware
from orderly.core.middleware.security_headers import SecurityHeadersMiddleware

__all__ = [
    "BodyLimitMiddleware",
    "JsonDepthMiddleware",
    "ProblemCORSMiddleware",
    "RequestContextMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
]

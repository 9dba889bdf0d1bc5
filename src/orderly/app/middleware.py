"""The middleware stack, outermost first."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from orderly.app.docs import DOCS_PREFIXES
from orderly.config import Settings
from orderly.core.middleware import (
    BodyLimitMiddleware,
    JsonDepthMiddleware,
    ProblemCORSMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from orderly.idempotency.middleware import IdempotencyMiddleware

GZIP_MINIMUM_BYTES = 1000


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Middleware, outermost first (``add_middleware`` prepends, so it is called in
    reverse):

    1. SecurityHeaders - outermost so that every response, including the 500 rendered
       by RequestContext and the 400 of a bad Host, carries the headers.
    2. RequestContext  - request id, timing, access line, last-resort 500; it wraps
       everything below so rejected hosts and CORS preflights are logged and timed too.
    3. TrustedHost     - reject a foreign Host before any work (only when restricted).
    4. CORS            - answer preflights before routing (only when origins are set).
    5. BodyLimit       - 413 for a body over APP_MAX_BODY_BYTES, counted as it streams,
       before anything below reads (and holds) it.
    6. JsonDepth       - refuse a JSON body nested too deep before anything parses it
       (FastAPI for the endpoint, the idempotency guard for its fingerprint).
    7. GZip            - compresses the body the app produced (>= 1000 B).
    8. Idempotency     - innermost, inside GZip: records the uncompressed body; replays
       are then compressed per request, and still get the id and security headers.
    """
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(JsonDepthMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "Idempotency-Key",
                "If-Match",
                "If-None-Match",
                "X-Request-ID",
            ],
            expose_headers=[
                "X-Request-ID",
                "ETag",
                "Location",
                "Retry-After",
                "X-Idempotent-Replayed",
            ],
        )
    if settings.allowed_hosts and "*" not in settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware)
    docs_prefixes = () if settings.is_production else (*DOCS_PREFIXES,)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts=settings.is_production, docs_prefixes=docs_prefixes
    )

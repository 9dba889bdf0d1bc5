"""Application factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.middleware.gzip import GZipMiddleware

from orderly import __version__
from orderly.api import include_api
from orderly.api_keys.resolver import ApiKeyResolver
from orderly.auth.passwords import PasswordHasher
from orderly.auth.revocations import SessionRevocations
from orderly.auth.tokens import AccessTokenCodec
from orderly.config import Settings, load_settings
from orderly.core.cache import InvalidationBus
from orderly.core.cached_reads import check_cached_routes
from orderly.core.database import Database, create_engine
from orderly.core.failures import FailureCounts
from orderly.core.kvstore import MemoryStore, RedisStore, open_redis
from orderly.core.logging import configure_logging
from orderly.core.middleware import (
    JsonDepthMiddleware,
    ProblemCORSMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from orderly.core.pagination import CursorCodec
from orderly.core.problems import register_exception_handlers
from orderly.core.resources import Resources
from orderly.core.response_cache import ResponseCache
from orderly.core.responses import EDGE, document_problems
from orderly.core.tasks import TaskRunner
from orderly.docs import DOCS_PREFIXES, mount_docs
from orderly.health.router import router as health_router
from orderly.idempotency import handlers as idempotency_handlers
from orderly.idempotency.middleware import IdempotencyMiddleware
from orderly.openapi import CONTACT, DESCRIPTION, LICENSE, TAGS, document_security
from orderly.users.service import sessions_ended_since

logger = structlog.get_logger("orderly")

OPENAPI_URL = "/openapi.json"
GZIP_MINIMUM_BYTES = 1000


def _open_redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    return open_redis(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        pool_timeout=settings.redis_pool_timeout,
        socket_timeout=settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_connect_timeout_seconds,
    )


def _open_resources(settings: Settings) -> Resources:
    database = Database(create_engine(settings), is_sqlite=settings.is_sqlite)
    redis = _open_redis(settings)
    bus = InvalidationBus(redis, channel=f"{settings.redis_prefix}invalidate")
    kv = RedisStore(redis, prefix=settings.redis_prefix) if redis is not None else MemoryStore()
    # Embedded mode keeps revocations in a store of their own: in the shared one, a
    # flood of idempotency keys could evict a marker (LRU) and revive a revoked token.
    revocations = SessionRevocations(
        kv if redis is not None else MemoryStore(),
        lambda since: sessions_ended_since(database, since),
        access_ttl_seconds=settings.access_token_ttl_seconds,
    )
    failures = FailureCounts()
    return Resources(
        settings=settings,
        database=database,
        redis=redis,
        passwords=PasswordHasher.from_settings(settings),
        access_tokens=AccessTokenCodec(
            signing_key=settings.signing_key,
            verification_keys=settings.verification_keys,
            algorithm=settings.jwt_algorithm,
            ttl_seconds=settings.access_token_ttl_seconds,
        ),
        revocations=revocations,
        cursors=CursorCodec(settings.signing_key),
        tasks=TaskRunner(),
        kv=kv,
        response_cache=ResponseCache(
            kv,
            enabled=settings.cache_enabled,
            ttl_seconds=settings.cache_ttl_seconds,
            failures=failures,
        ),
        failures=failures,
        bus=bus,
        api_keys=ApiKeyResolver(bus),
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    resources = _open_resources(settings)
    app.state.resources = resources
    await resources.bus.start()
    mode = "scale-out" if settings.redis_url else "embedded"
    logger.info("startup", environment=settings.environment, mode=mode, version=__version__)
    try:
        yield
    finally:
        await resources.close()
        logger.info("shutdown")


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Middleware, outermost first (``add_middleware`` prepends, so it is called in
    reverse):

    1. SecurityHeaders - outermost so that every response, including the 500 rendered
       by RequestContext and the 400 of a bad Host, carries the headers.
    2. RequestContext  - request id, timing, access line, last-resort 500; it wraps
       everything below so rejected hosts and CORS preflights are logged and timed too.
    3. TrustedHost     - reject a foreign Host before any work (only when restricted).
    4. CORS            - answer preflights before routing (only when origins are set).
    5. JsonDepth       - refuse a JSON body nested too deep before anything parses it
       (FastAPI for the endpoint, the idempotency guard for its fingerprint).
    6. GZip            - compresses the body the app produced (>= 1000 B).
    7. Idempotency     - innermost, inside GZip: records the uncompressed body; replays
       are then compressed per request, and still get the id and security headers.
    """
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(JsonDepthMiddleware)
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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(
        level=settings.log_level, fmt=settings.effective_log_format, echo_sql=settings.db_echo
    )
    if settings.secret_key is None:
        logger.warning(
            "generated_secret_key",
            detail="APP_SECRET_KEY is not set; generated a random one for this process. "
            "Tokens will not survive a restart. Set APP_SECRET_KEY to keep them.",
        )
    docs_enabled = not settings.is_production
    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        contact=CONTACT,
        license_info=LICENSE,
        openapi_url=OPENAPI_URL if docs_enabled else None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        debug=False,
    )
    app.state.settings = settings
    register_exception_handlers(app)
    idempotency_handlers.register(app)
    include_api(app)
    app.include_router(health_router, responses=EDGE)
    check_cached_routes(app)
    document_security(app)
    document_problems(app)
    if docs_enabled:
        mount_docs(app, openapi_url=OPENAPI_URL)
    _add_middleware(app, settings)
    return app

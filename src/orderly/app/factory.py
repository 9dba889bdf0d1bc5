"""``create_app(settings)``: the FastAPI app, its error handlers, routes and middleware."""

from __future__ import annotations

import structlog
from fastapi import FastAPI

from orderly import __version__
from orderly.app.docs import mount_docs
from orderly.app.lifespan import lifespan
from orderly.app.middleware import add_middleware
from orderly.app.openapi import CONTACT, DESCRIPTION, LICENSE, TAGS, document_api
from orderly.app.routers import include_routers
from orderly.config import Settings, load_settings
from orderly.core.cached_reads import check_cached_routes
from orderly.core.logging import configure_logging
from orderly.core.problems import register_exception_handlers
from orderly.idempotency import handlers as idempotency_handlers

logger = structlog.get_logger("orderly")

OPENAPI_URL = "/openapi.json"


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
    include_routers(app)
    check_cached_routes(app)
    document_api(app)
    if docs_enabled:
        mount_docs(app, openapi_url=OPENAPI_URL)
    add_middleware(app, settings)
    return app

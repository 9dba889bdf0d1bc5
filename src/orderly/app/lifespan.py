"""The HTTP app's lifespan: the container, opened once per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from orderly import __version__
from orderly.app.container import open_container
from orderly.config import Settings

logger = structlog.get_logger("orderly")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with open_container(settings) as container:
        app.state.container = container
        mode = "scale-out" if settings.redis_url else "embedded"
        logger.info("startup", environment=settings.environment, mode=mode, version=__version__)
        yield
    logger.info("shutdown")

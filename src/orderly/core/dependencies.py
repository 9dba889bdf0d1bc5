"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from orderly.core.container import Container, Key
from orderly.core.database import DATABASE
from orderly.core.errors import AppError
from orderly.core.response_cache import RESPONSE_CACHE, ResponseCache
from orderly.core.responses import TENANT_DATA_HEADERS
from orderly.core.unit_of_work import commit, rollback

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def container_of(conn: HTTPConnection) -> Container:
    """The app's container, opened by its lifespan (``orderly.app.lifespan``)."""
    container: Container = conn.app.state.container
    return container


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request.

    Committed when the handler returns and *before* the response is sent (the
    dependency is function-scoped), so a failed commit becomes an error response
    instead of a 2xx for work that was never saved. Any exception rolls back.
    """
    container = container_of(request)
    cache = container[RESPONSE_CACHE]
    session = container[DATABASE].session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    except AppError as exc:
        if exc.persist_changes:
            await commit_unit(cache, session)
        else:
            await rollback(session)
        raise
    except BaseException:
        await rollback(session)
        raise
    else:
        await commit_unit(cache, session)
    finally:
        # Commit and rollback already gave the connection back. Closing a session that
        # holds none only clears its identity map (garbage anyway) at the price of a
        # greenlet round trip: most requests served from caches never touch the DB.
        if session.in_transaction():
            await session.close()


async def commit_unit(cache: ResponseCache, session: AsyncSession) -> None:
    """Commit, run the after-commit work, and invalidate what the unit changed."""
    for namespace, tenant_id in await commit(session):
        await cache.invalidate(namespace, tenant_id)


DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


def part(key: Key[T]) -> Any:
    """``Depends`` on a long-lived part of the container: ``Annotated[X, part(X_KEY)]``."""

    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    # thread hop per request (and per such dependency) on the hottest path there is.
    async def get_part(request: Request) -> T:
        return container_of(request)[key]

    get_part.__name__ = f"part_{key.name}"
    return Depends(get_part)


async def tenant_data_headers(response: Response) -> None:
    """Tenant data is private to the credential that fetched it (see TENANT_DATA_HEADERS)."""
    response.headers.update(TENANT_DATA_HEADERS)

"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.errors import AppError
from orderly.core.resources import Resources, get_resources
from orderly.core.responses import TENANT_DATA_HEADERS
from orderly.core.unit_of_work import commit, rollback, run_after_commit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: a transaction for a write (a read session on
    PostgreSQL takes none, see ``Database``).

    Committed when the handler returns and *before* the response is sent (the
    dependency is function-scoped), so a failed commit becomes an error response
    instead of a 2xx for work that was never saved. Any exception rolls back.
    """
    resources = get_resources(request)
    session = resources.database.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    except AppError as exc:
        if exc.persist_changes:
            await commit_unit(resources, session)
        else:
            await rollback(session)
        raise
    except BaseException:
        await rollback(session)
        raise
    else:
        await commit_unit(resources, session)
    finally:
        # Commit and rollback already gave the connection back. Closing a session that
        # holds none only clears its identity map (garbage anyway) at the price of a
        # greenlet round trip: most requests served from caches never touch the DB.
        if session.in_transaction():
            await session.close()


async def commit_unit(resources: Resources, session: AsyncSession) -> None:
    """Commit, then run the after-commit work and invalidate what the unit changed;
    only the commit can fail the request (see ``run_after_commit``)."""
    changed = await commit(session, resources.failures)
    invalidate = resources.response_cache.invalidate
    await run_after_commit(
        [partial(invalidate, namespace, tenant_id) for namespace, tenant_id in changed],
        resources.failures,
    )


DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _resources(request: Request) -> Resources:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    # thread hop per request (and per such dependency) on the hottest path there is.
    return get_resources(request)


AppResources = Annotated[Resources, Depends(_resources)]


async def tenant_data_headers(response: Response) -> None:
    """Tenant data is private to the credential that fetched it (see TENANT_DATA_HEADERS)."""
    response.headers.update(TENANT_DATA_HEADERS)

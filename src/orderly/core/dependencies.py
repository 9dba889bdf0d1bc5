"""How a route gets what it works with: one way for services, one for session-free
readers, one for long-lived parts.

- ``service(ServiceClass, Access)``: the service built from a unit of work opened for
  the caller that ``Access`` (an auth alias) admits, committed when the handler returns
  and *before* the response is sent (function scope): a failed commit is an error
  response, never a 2xx for work that was not saved. Any exception rolls back.
- ``reader(ReaderClass, Access)``: an object that reads committed rows without a
  transaction (a catalog page), built from the caller and the container.
- ``part(KEY)``: a long-lived part of the container itself.

Guards are applied by hand (``authorize``), not as sub-dependencies: FastAPI solves
every node of a route's tree on every request, ~15 us each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Depends, Request, Response

from orderly.core.access import authorize, guard_of
from orderly.core.container import Container, Key, container_of
from orderly.core.database_errors import DatabaseUnavailableError
from orderly.core.identity import Principal
from orderly.core.responses import TENANT_DATA_HEADERS, declare
from orderly.core.unit_of_work import UnitOfWork, unit_of_work

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def service(factory: Callable[[UnitOfWork, Container], T], access: object = None) -> Any:
    """``Depends`` for ``factory(uow, container)``; ``access`` None is a public route."""
    guard = None if access is None else guard_of(access)

    async def open_service(request: Request) -> AsyncIterator[T]:
        principal = None if guard is None else await authorize(request, guard)
        container = container_of(request)
        write = request.method not in SAFE_METHODS
        async with unit_of_work(container, principal, write=write) as uow:
            yield factory(uow, container)

    open_service.__name__ = f"open_{getattr(factory, '__name__', 'service')}"
    declare(open_service, DatabaseUnavailableError)
    return Depends(open_service, scope="function")


def reader(factory: Callable[[Principal, Container], T], access: object) -> Any:
    """``Depends`` for ``factory(principal, container)``: no unit of work, no session."""
    guard = guard_of(access)

    async def build_reader(request: Request) -> T:
        return factory(await authorize(request, guard), container_of(request))

    build_reader.__name__ = f"build_{getattr(factory, '__name__', 'reader')}"
    declare(build_reader, DatabaseUnavailableError)
    return Depends(build_reader)


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


declare(tenant_data_headers, success_headers=tuple(TENANT_DATA_HEADERS))

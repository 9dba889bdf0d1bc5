"""Reaching the long-lived parts of a running test app (its container)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import FastAPI

from orderly.core.container import Container, Key
from orderly.core.dependencies import service
from orderly.core.unit_of_work import UnitOfWork

T = TypeVar("T")


def part(app: FastAPI, key: Key[T]) -> T:
    container: Container = app.state.container
    return container[key]


def _unit(uow: UnitOfWork, parts: Container) -> UnitOfWork:
    return uow


# A test route's unit of work itself, opened as every service's is (public: no
# principal): ``async def route(work: Work)``.
Work = Annotated[UnitOfWork, service(_unit)]

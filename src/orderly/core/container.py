"""The long-lived parts of one running app, each under a typed key.

The composition root (``orderly.app``) opens a ``Container`` once per process (the
HTTP lifespan, the CLI, a worker, a test): core adds its parts (database, key-value
store, caches, job queue), then every domain adds its own through its ``provide``
function. Nothing here knows a domain: a domain declares its keys next to the classes
they hold, and reads the parts of others through their keys.

Keys are objects rather than classes so that a protocol (``KeyValueStore``,
``JobQueue``) can be a key and one class can fill two slots; mypy checks the type of
what is stored and read under each (like aiohttp's ``AppKey``).

Parts are closed in the reverse order of their addition: what was added last may use
what came before it until it is closed itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

import structlog
from starlette.requests import HTTPConnection

T = TypeVar("T")
# A part's close: a coroutine function (``aclose``) or a plain one (``shutdown``).
Close = Callable[[], object]

logger = structlog.get_logger("orderly.container")


class Key(Generic[T]):
    """The typed name of a part: ``DATABASE: Key[Database] = Key("database")``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"


class Container:
    def __init__(self) -> None:
        self._parts: dict[Key[Any], object] = {}
        self._closers: list[tuple[str, Close]] = []

    def add(self, key: Key[T], part: T, *, close: Close | None = None) -> T:
        """Add ``part`` under ``key`` (once); ``close`` runs when the container closes."""
        if key in self._parts:
            raise ValueError(f"{key.name} is provided twice")
        self._parts[key] = part
        if close is not None:
            self._closers.append((key.name, close))
        return part

    def replace(self, key: Key[T], part: T) -> None:
        """Swap a part that is already there (tests, tools). The old one is still closed
        by the closer registered with it."""
        if key not in self._parts:
            raise LookupError(f"nothing provides {key.name}")
        self._parts[key] = part

    def __getitem__(self, key: Key[T]) -> T:
        try:
            return cast(T, self._parts[key])
        except KeyError:
            raise LookupError(
                f"nothing provides {key.name}: is its domain's provide() in "
                "orderly.app.container.PROVIDERS?"
            ) from None

    def __contains__(self, key: Key[Any]) -> bool:
        return key in self._parts

    async def aclose(self) -> None:
        """Close every part, newest first. A part that fails to close is logged and the
        others are still closed: a shutdown must release every connection it can."""
        while self._closers:
            name, close = self._closers.pop()
            try:
                closing = close()
                if inspect.isawaitable(closing):
                    await closing
            except Exception:
                logger.exception("part_close_failed", part=name)
        self._parts.clear()


def container_of(conn: HTTPConnection) -> Container:
    """The container of the app serving ``conn`` (put in ``app.state`` by its lifespan)."""
    container: Container = conn.app.state.container
    return container

"""A database that cannot be reached in time is an outage, not a bug.

``translate_unavailability(engine)`` turns every such failure into
``DatabaseUnavailableError`` (503 ``DATABASE_UNAVAILABLE`` with ``Retry-After``) where
it happens, in the engine's own events, so a request, a background task and a probe
all see the same error:

- a connection that cannot be opened: refused, timed out, or turned away while the
  server starts up or shuts down (SQLSTATE 57P03), a SQLite file that cannot be opened.
  The driver raises these raw (``ConnectionRefusedError``, ``TimeoutError``), which
  SQLAlchemy passes on unwrapped: without this they were 500s;
- a statement the client stopped waiting for (asyncpg ``command_timeout``: the server
  stopped answering) or whose socket broke (``OSError``);
- a statement the server cancelled or ended: ``statement_timeout`` (57014),
  ``lock_timeout`` (55P03), administrator or crash shutdown (57P01, 57P02), a lost
  connection (class 08), resources exhausted (class 53: too many connections, disk
  full).

Everything else a driver raises stays a bug (500 INTERNAL_ERROR, details in the log).
The pool's own timeout and dropped connections SQLAlchemy already recognises are
answered the same way by ``core/problems.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from orderly.core.errors import ServiceUnavailableError

logger = structlog.get_logger("orderly.database")

# SQLSTATEs of a statement the server cancelled on its timeout (the connection is fine).
_CANCELLED = {"57014", "55P03"}
# SQLSTATEs (and classes) of a server that is going, gone, or out of resources.
_UNAVAILABLE = {"57P01", "57P02", "57P03", "57P04", "57P05"}
_UNAVAILABLE_CLASSES = {"08", "53"}


class DatabaseUnavailableError(ServiceUnavailableError):
    code = "DATABASE_UNAVAILABLE"
    default_detail = "The database is busy or unreachable; retry shortly."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


@dataclass(frozen=True, slots=True)
class _Failure:
    why: str  # for the log
    broken: bool  # the connection's state is unknown: never reuse it
    late: bool  # a timeout: the client is told so


_NO_ANSWER = _Failure("no answer in time", broken=True, late=True)
_LOST = _Failure("connection lost", broken=True, late=False)
_TIMED_OUT = _Failure("cancelled by the server after its timeout", broken=False, late=True)
_GONE = _Failure("server unavailable", broken=True, late=False)
LATE_DETAIL = "The database did not answer in time; retry shortly."


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, exc.__cause__):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def _classify(exc: BaseException) -> _Failure | None:
    """What kind of unavailability ``exc`` is, or None for anything else (a bug)."""
    if isinstance(exc, TimeoutError):  # asyncpg's command_timeout
        return _NO_ANSWER
    if isinstance(exc, OSError):
        return _LOST
    state = _sqlstate(exc)
    if state is None:
        return None
    if state in _CANCELLED:
        return _TIMED_OUT
    if state in _UNAVAILABLE or state[:2] in _UNAVAILABLE_CLASSES:
        return _GONE
    return None


def _log(event_name: str, exc: BaseException, why: str) -> None:
    # Type and SQLSTATE only: driver messages can quote SQL parameters.
    logger.warning(event_name, error=type(exc).__name__, sqlstate=_sqlstate(exc), why=why)


def translate_unavailability(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any) -> Any:
        # What SQLAlchemy does when no listener returns a connection; only a failure
        # is ours to describe.
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            _log("database_connect_failed", exc, "cannot connect")
            late = isinstance(exc, TimeoutError)
            raise DatabaseUnavailableError(LATE_DETAIL if late else None) from exc

    @event.listens_for(sync_engine, "handle_error")
    def _statement_failed(context: ExceptionContext) -> None:
        if context.is_pre_ping:
            return
        exc = context.original_exception
        if isinstance(exc, asyncio.CancelledError):  # a timeout around the caller
            _drop_now(context)
            return
        failure = _classify(exc)
        if failure is None:
            return
        if failure.broken:
            context.is_disconnect = True  # SQLAlchemy then invalidates it
            _drop_now(context)
        _log("database_unavailable", exc, failure.why)
        raise DatabaseUnavailableError(LATE_DETAIL if failure.late else None)


def _drop_now(context: ExceptionContext) -> None:
    """Close a connection that is being given up on without a goodbye.

    SQLAlchemy closes an invalidated asyncpg connection gracefully first
    (sqlalchemy/sqlalchemy#10717), waiting up to 2 s for a server that may be the very
    reason it was given up on: a frozen host made each request wait 2 s longer than
    its timeout. Terminated here, that close finds it closed and returns at once.
    """
    if context.connection is None or context.dialect.driver != "asyncpg":
        return
    driver_connection = context.connection.connection.driver_connection
    if driver_connection is not None:
        driver_connection.terminate()

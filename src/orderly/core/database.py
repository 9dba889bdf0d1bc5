"""Engine, sessions, the declarative base and the column types and ids they share.

The engine is created by the composition root (``orderly.app``, never at import time)
and disposed when its container closes; its pool serves waiters in arrival order
(``pool.py``). Sessions are opened by a unit of work (``unit_of_work.py``): a write
session is one transaction, committed before the response; a read session refuses
writes and, on PostgreSQL, takes no transaction at all (``Database``). A catalog page
needs no session: it reads on a pooled connection (``Database.read_connection``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.types import TypeDecorator

from orderly.core.container import Key
from orderly.core.database_errors import translate_unavailability
from orderly.core.pool import FairAsyncPool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
SQLITE_WRITE_OPTION = "orderly_sqlite_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        # asyncpg already decodes timestamptz to aware datetimes in UTC: nothing to do
        # for the three datetimes of every row of every page.
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)


def utcnow() -> datetime:
    return datetime.now(UTC)


_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str) -> str:
    """``<prefix>_`` + 24 chars of base32 (120 random bits): unguessable, URL-safe."""
    value = int.from_bytes(secrets.token_bytes(15), "big")
    chars = []
    for _ in range(24):
        value, index = divmod(value, 32)
        chars.append(_ID_ALPHABET[index])
    return f"{prefix}_{''.join(chars)}"


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys and a busy timeout; and our own BEGIN.

    pysqlite's implicit transactions would start a write transaction as DEFERRED: two
    requests that read and then write deadlock, and the loser fails at once with
    "database is locked" regardless of the busy timeout. Writers therefore begin with
    BEGIN IMMEDIATE (they queue on the busy timeout instead), readers with a plain BEGIN.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(SQLITE_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


# The client waits this much longer than the server's statement_timeout: a slow
# statement is cancelled by the server (its connection stays usable); only a server
# that does not answer at all is given up on by the client (the connection is dropped).
COMMAND_TIMEOUT_GRACE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How to reach the database, size the pool and bound every statement (from
    ``APP_DATABASE_URL`` and ``APP_DB_*``)."""

    url: str
    pool_size: int = 10
    max_overflow: int = 0
    pool_timeout: float = 5.0
    pool_recycle: int = 1800
    pool_pre_ping: bool = False
    sqlite_busy_timeout_ms: int = 5000
    statement_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    idle_in_transaction_timeout_seconds: float = 30.0

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def _asyncpg_timeouts(options: EngineOptions) -> dict[str, Any]:
    """Per-connection bounds: sent once in the startup packet, no round trip per request."""

    def ms(seconds: float) -> str:
        return f"{round(seconds * 1000)}ms"

    return {
        "timeout": options.connect_timeout_seconds,
        "command_timeout": options.statement_timeout_seconds + COMMAND_TIMEOUT_GRACE_SECONDS,
        "server_settings": {
            "statement_timeout": ms(options.statement_timeout_seconds),
            "idle_in_transaction_session_timeout": ms(options.idle_in_transaction_timeout_seconds),
        },
    }


def create_engine(options: EngineOptions) -> AsyncEngine:
    """Parameters are hidden from errors and echo: they hold password hashes, key
    hashes and whatever a client sent, and an error's text reaches the log.
    (``APP_DB_ECHO`` is applied by ``configure_logging``, through our handler.)"""
    if options.is_sqlite:
        engine = create_async_engine(
            options.url,
            hide_parameters=True,
            poolclass=FairAsyncPool,
            pool_pre_ping=False,
            pool_timeout=options.pool_timeout,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
        )
        _configure_sqlite(engine, options.sqlite_busy_timeout_ms)
    else:
        engine = create_async_engine(
            options.url,
            hide_parameters=True,
            poolclass=FairAsyncPool,
            pool_pre_ping=options.pool_pre_ping,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
            pool_timeout=options.pool_timeout,
            pool_recycle=options.pool_recycle,
            connect_args=_asyncpg_timeouts(options),
        )
    translate_unavailability(engine)
    return engine


class ReadOnlySessionError(RuntimeError):
    """A read session (a GET's) was asked to write: a bug in the route, not bad input."""


READ_ONLY = "orderly_read_only"


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes_in_read_sessions(state: ORMExecuteState) -> None:
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and state.session.info.get(READ_ONLY):
        raise ReadOnlySessionError("a read session cannot run INSERT, UPDATE or DELETE")


@event.listens_for(Session, "before_flush")
def _refuse_flushes_in_read_sessions(session: Session, *_: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySessionError("a read session cannot flush changes")


class Database:
    """The engine and the two session factories (read and write) of one app.

    Reads on PostgreSQL run without BEGIN/COMMIT (autocommit): at READ COMMITTED every
    statement takes its own snapshot even inside a transaction, so wrapping reads in
    one bought no consistency and cost two round trips per request (two thirds of an
    uncached catalog page's). Read sessions refuse writes, so a GET cannot write
    outside a transaction by mistake. SQLite keeps its BEGIN: there a read
    transaction is one snapshot.
    """

    @classmethod
    def open(cls, options: EngineOptions) -> Database:
        """A new engine (no connection yet: the pool connects on first use)."""
        return cls(create_engine(options), is_sqlite=options.is_sqlite)

    def __init__(self, engine: AsyncEngine, *, is_sqlite: bool) -> None:
        self.engine = engine
        read_bind = engine if is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_bind = read_bind
        self.read_sessions = async_sessionmaker(
            read_bind, expire_on_commit=False, autoflush=False, info={READ_ONLY: True}
        )
        write_bind = (
            engine.execution_options(**{SQLITE_WRITE_OPTION: True}) if is_sqlite else engine
        )
        self.write_sessions = async_sessionmaker(
            write_bind, expire_on_commit=False, autoflush=False
        )

    def session(self, *, write: bool) -> AsyncSession:
        return (self.write_sessions if write else self.read_sessions)()

    def read_connection(self) -> AsyncConnection:
        """A pooled connection (``async with``) for a read of plain rows that needs no
        unit of work: no session is built, and no request-scoped dependency has to
        tear one down. Bound like the read sessions (autocommit on PostgreSQL).
        Measured: a session dependency around the catalog page's one SELECT was
        about a fifth of its in-process cost."""
        return self._read_bind.connect()

    async def dispose(self) -> None:
        await self.engine.dispose()


DATABASE: Key[Database] = Key("database")

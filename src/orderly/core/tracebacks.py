"""Tracebacks for the log: no locals, bounded, and without the values some exceptions
carry in their text.

The formatter structlog picks by default renders each frame's local variables (Rich
when it is installed, as it is with Typer): a request's headers, a password, a body.
Rendering the locals of a deep ``RecursionError`` once blocked the event loop for
285 s and wrote 30 MB. Here a traceback shows the outermost and innermost frames of
each exception (where the request entered, where it failed), a bounded chain of
causes and group members, and a bounded message; the whole is cut at
``MAX_TRACEBACK_CHARS``.

Messages that embed input are summarized: SQLAlchemy's ``StatementError`` lists the
bound parameters (a password hash, a key hash) and pydantic's and FastAPI's
validation errors repeat the input values. The engine hides parameters as well
(``hide_parameters``); this covers every other way such an error reaches the log.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import pydantic
import sqlalchemy.exc
from fastapi.exceptions import ValidationException
from structlog.typing import ExcInfo

OUTER_FRAMES = 8  # where the failure entered: the request's way through the app
INNER_FRAMES = 12  # where it happened
MAX_CHAIN = 5  # causes and contexts followed
MAX_GROUP_MEMBERS = 5
MAX_GROUP_DEPTH = 2
MAX_MESSAGE_CHARS = 1_000
MAX_SQL_CHARS = 500
MAX_FIELD_ERRORS = 10
MAX_TRACEBACK_CHARS = 16_000

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception(exc_info: ExcInfo) -> str:
    """structlog's ``ExceptionRenderer`` formatter: the ``exception`` field of a line."""
    return truncate("".join(_chain(exc_info[1], depth=0)), MAX_TRACEBACK_CHARS)


def exception_message(exc: BaseException) -> str:
    """What a log line may say about ``exc``: its message minus embedded values."""
    if isinstance(exc, pydantic.ValidationError):
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        text = _field_errors(exc.title, errors)
    elif isinstance(exc, ValidationException):
        text = _field_errors(type(exc).__name__, exc.errors())
    elif isinstance(exc, sqlalchemy.exc.StatementError):
        text = _statement(exc)
    else:
        text = _text(exc)
    return truncate(text, MAX_MESSAGE_CHARS)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... {len(text) - 2 * half} characters omitted ...\n{text[-half:]}"


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not lose the log line
        return "<unprintable>"


def _field_errors(title: str, errors: Sequence[Any]) -> str:
    parts = [
        f"{'.'.join(map(str, error.get('loc', ())))}: {error.get('msg')} [{error.get('type')}]"
        if isinstance(error, Mapping)
        else type(error).__name__
        for error in errors[:MAX_FIELD_ERRORS]
    ]
    more = f"; and {len(errors) - MAX_FIELD_ERRORS} more" if len(errors) > MAX_FIELD_ERRORS else ""
    return f"{len(errors)} validation error(s) for {title}: {'; '.join(parts)}{more}"


def _statement(exc: sqlalchemy.exc.StatementError) -> str:
    """The driver's first line and the SQL, never the parameters (nor the driver's
    DETAIL lines, which can quote a failing row)."""
    orig = exc.orig
    cause = ""
    if orig is not None:
        first_line = _text(orig).partition("\n")[0]
        cause = f"({_name(type(orig))}) {first_line} "
    sql = " ".join((exc.statement or "").split())
    return f"{cause}[SQL: {truncate(sql, MAX_SQL_CHARS)}]"


def _name(cls: type[BaseException]) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _chain(exc: BaseException, depth: int) -> Iterator[str]:
    """Causes first, as Python prints them."""
    links: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(links) < MAX_CHAIN:
        seen.add(id(current))
        if current.__cause__ is not None:
            links.append((current, _CAUSE))
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            links.append((current, _CONTEXT))
            current = current.__context__
        else:
            links.append((current, ""))
            current = None
    if current is not None and id(current) not in seen:
        yield f"... (earlier exceptions of the chain omitted: {_name(type(current))}, ...)\n"
    for index in range(len(links) - 1, -1, -1):
        yield from _one(links[index][0], depth)
        if index:
            yield links[index - 1][1]


def _one(exc: BaseException, depth: int) -> Iterator[str]:
    if exc.__traceback__ is not None:
        yield "Traceback (most recent call last):\n"
        yield from _frames(exc.__traceback__)
    message = exception_message(exc)
    yield f"{_name(type(exc))}: {message}\n" if message else f"{_name(type(exc))}\n"
    for note in (getattr(exc, "__notes__", None) or [])[:MAX_GROUP_MEMBERS]:
        yield truncate(str(note), MAX_MESSAGE_CHARS) + "\n"
    if isinstance(exc, BaseExceptionGroup):
        yield from _members(exc, depth)


def _frames(tb: TracebackType) -> Iterator[str]:
    entries = list(traceback.walk_tb(tb))  # cheap: the frames are only referenced
    if len(entries) <= OUTER_FRAMES + INNER_FRAMES:
        yield from _format(entries)
        return
    yield from _format(entries[:OUTER_FRAMES])
    yield f"  ... {len(entries) - OUTER_FRAMES - INNER_FRAMES} frames omitted ...\n"
    yield from _format(entries[-INNER_FRAMES:])


def _format(entries: Iterable[tuple[Any, int]]) -> list[str]:
    return traceback.StackSummary.extract(iter(entries), capture_locals=False).format()


def _members(group: BaseExceptionGroup[BaseException], depth: int) -> Iterator[str]:
    members = group.exceptions
    if depth >= MAX_GROUP_DEPTH:
        yield f"  ... {len(members)} grouped exception(s) omitted ...\n"
        return
    for number, member in enumerate(members[:MAX_GROUP_MEMBERS], 1):
        yield f"+---- {number} ----\n"
        for chunk in _chain(member, depth + 1):
            yield "".join(f"| {line}\n" for line in chunk.splitlines())
    if len(members) > MAX_GROUP_MEMBERS:
        yield f"+---- and {len(members) - MAX_GROUP_MEMBERS} more ----\n"

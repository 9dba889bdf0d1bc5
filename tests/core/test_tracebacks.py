"""Tracebacks in the log are bounded in every dimension and never show locals or the
values an exception embeds."""

from __future__ import annotations

import io
import logging
import sys
import time
import traceback
from typing import Literal

import pytest
import sqlalchemy.exc

from orderly.core import tracebacks
from orderly.core.logging import configure_logging
from orderly.core.tracebacks import exception_message, format_exception

SECRET_LOCAL = "opaque-local-value-0123456789"


def _formatted(exc: BaseException) -> str:
    return format_exception((type(exc), exc, exc.__traceback__))


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_chain_of_causes_is_cut_after_a_few_links() -> None:
    def fail(depth: int) -> None:
        if depth == 0:
            raise ValueError("the first failure")
        try:
            fail(depth - 1)
        except ValueError as exc:
            raise ValueError(f"link {depth}") from exc

    try:
        fail(50)
    except ValueError as exc:
        text = _formatted(exc)
    assert text.count("direct cause") == tracebacks.MAX_CHAIN - 1
    assert "earlier exceptions of the chain omitted" in text
    assert text.rstrip().endswith("ValueError: link 50")
    assert "the first failure" not in text


def test_an_exception_group_shows_a_bounded_number_of_members() -> None:
    group = ExceptionGroup("many", [ValueError(f"member {n}") for n in range(40)])
    text = _formatted(_raised(group))
    assert "member 0" in text
    assert f"member {tracebacks.MAX_GROUP_MEMBERS}" not in text
    assert f"and {40 - tracebacks.MAX_GROUP_MEMBERS} more" in text


def test_a_huge_message_is_cut() -> None:
    text = _formatted(_raised(ValueError("x" * 1_000_000)))
    assert len(text) < tracebacks.MAX_MESSAGE_CHARS + 500
    assert "characters omitted" in text


def test_a_statement_error_shows_its_sql_but_not_its_parameters() -> None:
    exc = sqlalchemy.exc.IntegrityError(
        "INSERT INTO users (email, password_hash) VALUES (?, ?)",
        ("ada@example.com", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"),
        Exception("UNIQUE constraint failed: users.email\nDETAIL: Key (email)=(ada@example.com)"),
    )
    message = exception_message(exc)
    assert "INSERT INTO users (email, password_hash) VALUES (?, ?)" in message
    assert "UNIQUE constraint failed: users.email" in message
    assert "ada@example.com" not in message
    assert "argon2" not in message


def test_an_exception_whose_str_fails_is_still_logged() -> None:
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "Broken: <unprintable>" in _formatted(_raised(Broken()))


def test_a_library_error_log_shows_no_locals_in_console_mode() -> None:
    """uvicorn logs an exception that escapes the app through the standard library."""
    out = io.StringIO()
    configure_logging(level="INFO", fmt="console", stream=out)

    def handler(secret: str) -> None:
        raise RuntimeError("the app failed")

    try:
        handler(SECRET_LOCAL)
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    output = out.getvalue()
    assert "RuntimeError: the app failed" in output
    assert SECRET_LOCAL not in output


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_recursion_error_renders_in_milliseconds_and_bounded(
    fmt: Literal["json", "console"],
) -> None:
    def down(payload: list[object], depth: int) -> None:
        down([payload], depth + 1)

    out = io.StringIO()
    configure_logging(level="INFO", fmt=fmt, stream=out)
    try:
        down([], 0)
    except RecursionError as exc:
        caught = exc
    frames = sum(1 for _ in traceback.walk_tb(caught.__traceback__))
    assert frames > sys.getrecursionlimit() // 2  # the real thing, not a shallow stand-in
    started = time.perf_counter()
    logging.getLogger("orderly.test").error("recursion", exc_info=caught)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed
    assert len(out.getvalue()) < tracebacks.MAX_TRACEBACK_CHARS + 1_000
    assert "frames omitted" in out.getvalue()

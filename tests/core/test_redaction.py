"""Credentials are removed by shape from every string of a log line, the rendered
traceback included, in linear time whatever the text."""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Literal

import pytest
import structlog

from orderly.core.logging import configure_logging
from orderly.core.redaction import REDACTED, redact_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
CREDENTIALS = {
    "bearer": f"Bearer {JWT}",
    "opaque bearer": "Bearer opaque-access-token-0123456789",
    "basic": "Basic dXNlcjpzZWNyZXQtcGFzc3dvcmQ=",
    "jwt": JWT,
    "api key": "sk_Zm9vYmFyLWJhei1xdXV4LTAxMjM0NTY3ODktYWJjZGVm",
    "refresh token": "rt_Zm9vYmFyLWJhei1xdXV4LTAxMjM0NTY3ODktYWJjZGVm",
    "webhook secret": "whsec_c2VjcmV0LXdlYmhvb2stc2lnbmluZy1rZXk",
    "argon2 hash": "$argon2id$v=19$m=19456,t=2,p=1$q6hmM+e6hoxeKrNsZUsrVg$A4UVoCQcC2DlwU7+H8Q",
    "bcrypt hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    "sha-256 digest": "67657db2039eb876eea37fa0f26ce2a9c1d1d5f1f0cc2f8b4dd16bd2e1c1c1d0",
}


@pytest.mark.parametrize("name", CREDENTIALS)
def test_a_credential_inside_a_string_is_redacted(name: str) -> None:
    secret = CREDENTIALS[name]
    redacted = redact_text(f"upstream said: ({secret}), retrying")
    assert secret not in redacted
    assert REDACTED in redacted
    assert redacted.startswith("upstream said: (")
    assert redacted.endswith("), retrying")


def test_the_scheme_of_an_authorization_value_and_the_user_of_a_url_are_kept() -> None:
    assert redact_text("Bearer abc.def") == f"Bearer {REDACTED}"
    assert (
        redact_text("postgresql://app:pa55@db:5432/x") == f"postgresql://app:{REDACTED}@db:5432/x"
    )


@pytest.mark.parametrize(
    "text",
    [
        "background_task_finished_ok",  # "sk_" inside a word
        "start_of_the_request_body",  # "rt_" inside a word
        "0123456789abcdef0123456789abcdef",  # a request id
        "x" + "a" * 64,  # hex inside a longer word
        "Bearer [REDACTED]",
        "Send 'Authorization: Bearer <access token>'",
        "http://127.0.0.1:8000/health/live",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "hostile",
    [
        ("a" * 63 + " ") * 1024,  # hex runs one short of a digest
        "Bearer" + " " * 64_000,
        "://" + "a" * 64_000,
        "eyJ" + "a." * 32_000,
        "sk_" * 21_000,
        "$argon2" * 9_000,
    ],
)
def test_redaction_is_linear_on_hostile_text(hostile: str) -> None:
    started = time.perf_counter()
    redact_text(hostile)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_credential_in_an_exception_message_is_redacted_from_the_traceback(
    fmt: Literal["json", "console"],
) -> None:
    out = io.StringIO()
    configure_logging(level="INFO", fmt=fmt, stream=out)
    try:
        raise ValueError(f"upstream refused {CREDENTIALS['bearer']} and {CREDENTIALS['api key']}")
    except ValueError:
        structlog.get_logger("orderly.test").exception("call_failed")
    output = out.getvalue()
    assert "ValueError: upstream refused Bearer [REDACTED] and [REDACTED]" in output
    assert JWT not in output
    assert CREDENTIALS["api key"] not in output


def test_a_credential_in_an_event_string_of_a_library_is_redacted() -> None:
    """Standard-library loggers (uvicorn, SQLAlchemy, Alembic) go through the same steps."""
    out = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=out)
    logging.getLogger("some.library").warning("retrying with %s", CREDENTIALS["argon2 hash"])
    line = json.loads(out.getvalue())
    assert line["event"] == f"retrying with {REDACTED}"
    assert line["logger"] == "some.library"


def test_a_credential_in_a_nested_or_foreign_value_is_redacted() -> None:
    class Upstream:
        def __repr__(self) -> str:
            return f"Upstream(token={CREDENTIALS['refresh token']})"

    out = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=out)
    structlog.get_logger("orderly.test").info(
        "calling",
        headers=[("x-forwarded", CREDENTIALS["basic"])],
        client=Upstream(),
        attempt=2,
    )
    line = json.loads(out.getvalue())
    assert line["headers"] == [["x-forwarded", f"Basic {REDACTED}"]]
    assert line["client"] == f"Upstream(token={REDACTED})"
    assert line["attempt"] == 2

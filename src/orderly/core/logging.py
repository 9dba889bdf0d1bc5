"""structlog set-up: JSON lines in production, console lines in development.

Standard-library loggers (uvicorn, SQLAlchemy, Alembic) are routed through the same
processors so every line has one shape and carries the request id. In every format
and at every level, the last steps before rendering are the same: exceptions rendered
by ``core.tracebacks`` (no locals, bounded, no embedded values), then secrets removed
by key and by shape (``core.redaction``) from every field, the traceback included.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO, cast

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from orderly.core import tracebacks
from orderly.core.redaction import REDACTED, is_sensitive_key, redact_value

__all__ = ["REDACTED", "configure_logging", "mirror_logs_to", "redact_secrets"]

# Libraries that log data at DEBUG: aiosqlite logs every statement it runs with its
# parameters (password hashes, token hashes, whatever a client sent). Their DEBUG is
# about their internals, not ours: APP_LOG_LEVEL=DEBUG leaves them at INFO.
_DATA_AT_DEBUG = ("aiosqlite",)

# Fields our own processors write: never a secret, not worth a scan per line.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger"})

_mirrors: list[TextIO] = []


def mirror_logs_to(stream: TextIO) -> None:
    """Also write every log line to ``stream``, from the next ``configure_logging`` on.

    The test session mirrors everything the app logs to a file and scans it for secrets.
    """
    _mirrors.append(stream)


class _Tee:
    """The minimal file interface structlog's writer and a ``StreamHandler`` use."""

    def __init__(self, *streams: TextIO) -> None:
        self._streams = streams

    def write(self, text: str) -> None:
        for stream in self._streams:
            stream.write(text)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()


def _output(stream: TextIO | None) -> TextIO:
    out = stream or sys.stdout
    return cast(TextIO, _Tee(out, *_mirrors)) if _mirrors else out


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Last line of defence: credentials never reach a log line, whoever logs them.

    A field named like a credential is dropped whole; every other field is scanned for
    the shapes of credentials (see ``core.redaction``). Runs after the exception is
    rendered, so a token quoted in an exception's text goes too.
    """
    for key, value in event_dict.items():
        if key in _OWN_FIELDS:
            continue
        event_dict[key] = REDACTED if is_sensitive_key(key) else redact_value(value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _final_processors(fmt: Literal["json", "console"], colors: bool) -> list[Processor]:
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        # The exception arrives rendered (the "exception" field); the formatter given
        # here is only a guard against the default, which prints locals (Rich).
        renderer = structlog.dev.ConsoleRenderer(
            colors=colors, exception_formatter=structlog.dev.plain_traceback
        )
    return [
        structlog.processors.ExceptionRenderer(tracebacks.format_exception),
        redact_secrets,
        renderer,
    ]


def configure_logging(
    *,
    level: str,
    fmt: Literal["json", "console"],
    stream: TextIO | None = None,
    echo_sql: bool = False,
) -> None:
    final = _final_processors(fmt, colors=(stream or sys.stdout).isatty())
    out = _output(stream)
    numeric_level = logging.getLevelNamesMapping()[level]
    structlog.configure(
        processors=[*_shared_processors(), *final],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    _configure_library_loggers(numeric_level, echo_sql=echo_sql)


def _configure_library_loggers(level: int, *, echo_sql: bool) -> None:
    # uvicorn's own access log is replaced by ours (one line, with the request id).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name in _DATA_AT_DEBUG:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    # SAQ logs a line at INFO for every job enqueued, started and finished (at DEBUG
    # with its arguments): a line per request on the API side. Its warnings and errors
    # (a failed job with its traceback) still come through; ours say when a job is
    # run again (core/jobs_saq.py).
    logging.getLogger("saq").setLevel(max(level, logging.WARNING))
    # SQL echo through our handler (JSON, redacted), not through the handler of its
    # own that ``create_engine(echo=True)`` adds; the statements only, at INFO (DEBUG
    # would add every row), and their parameters are hidden by the engine.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO if echo_sql else logging.WARNING)

"""Every log line of the test session, scanned for secrets when the session ends.

Each process of the session (the xdist controller and every worker) mirrors all that
``configure_logging`` writes to a file of its own in one session directory; servers
and CLI runs started by tests write theirs there too (``LOG_DIR_ENV``). When the whole
session is over, the controller reads every file and fails the run, naming each line,
if a credential is in one: a test password, an Argon2 hash, an API key, a JWT, a
refresh token, a webhook secret, bearer credentials or a SHA-256 digest (what key,
token and refresh-token hashes look like).

Loaded by ``tests/conftest.py``; ``-p tests.support.log_scan`` loads it into any run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from orderly.core.logging import mirror_logs_to
from tests.support.api import PASSWORD

LOG_DIR_ENV = "ORDERLY_TEST_LOG_DIR"
_WORKER_INPUT_KEY = "orderly_log_dir"
_DIRECTORY = pytest.StashKey[Path]()
_STREAM = pytest.StashKey[TextIO]()

# Every password a test sends, as written in the tests.
TEST_PASSWORDS = (
    PASSWORD,
    "long-enough-pw",
    "long-enough-password",
    "s3cret-password",
    "hunter2-correct-horse",
    "not-the-password",
)

SECRET_SHAPES = {
    "a test password": "|".join(re.escape(password) for password in TEST_PASSWORDS),
    "an Argon2 hash": r"\$argon2",
    "an API key": r"\bsk_[\w-]{20,}",
    "a JWT": r"\beyJ[\w-]{10,}",
    "a refresh token": r"\brt_[\w-]{20,}",
    "a webhook secret": r"\bwhsec_[\w-]+",
    "bearer credentials": r"(?i:\bbearer)\s+(?!\[REDACTED\])[\w.~+/=-]{8,}",
    "a SHA-256 digest": r"\b[0-9a-fA-F]{64}\b",
}
_SECRET = re.compile(
    "|".join(f"(?P<g{i}>{shape})" for i, shape in enumerate(SECRET_SHAPES.values()))
)
_NAMES = {f"g{i}": name for i, name in enumerate(SECRET_SHAPES)}


def findings(directory: Path) -> Iterator[str]:
    """``file:line: what`` for each line that holds a secret (the secret cut short)."""
    for path in sorted(directory.iterdir()):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                for match in _SECRET.finditer(line):
                    what = _NAMES[match.lastgroup or ""]
                    yield f"{path.name}:{number}: {what} ({match.group()[:12]}...)"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        directory = Path(config.workerinput[_WORKER_INPUT_KEY])  # type: ignore[attr-defined]
        name = config.workerinput["workerid"]  # type: ignore[attr-defined]
    else:
        directory = Path(tempfile.mkdtemp(prefix="orderly-test-logs-"))
        name = "controller"
    config.stash[_DIRECTORY] = directory
    stream = (directory / f"{name}.log").open("a", encoding="utf-8", buffering=1)
    config.stash[_STREAM] = stream
    mirror_logs_to(stream)
    os.environ[LOG_DIR_ENV] = str(directory)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller: tell each worker where the session's logs go."""
    node.workerinput[_WORKER_INPUT_KEY] = str(node.config.stash[_DIRECTORY])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    config.stash[_STREAM].flush()
    if _is_worker(config):
        return  # the controller scans once every worker has finished
    directory = config.stash[_DIRECTORY]
    found = list(findings(directory))
    if not found:
        shutil.rmtree(directory, ignore_errors=True)
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "secrets in the test session's logs", red=True)
        for finding in found[:50]:
            reporter.write_line(finding)
        reporter.write_line(f"{len(found)} finding(s); the logs are kept in {directory}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[_STREAM].close()

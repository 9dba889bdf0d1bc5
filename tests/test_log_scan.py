"""The session-wide secret scan (tests/support/log_scan.py) turns a run red when any
log line of any process holds a credential, with one worker or several."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CARELESS_TEST = """
import structlog

from orderly.core.logging import configure_logging
from tests.support.api import PASSWORD


def test_logs_a_password_in_a_message():
    configure_logging(level="INFO", fmt="json")
    structlog.get_logger("careless").info(f"signed up with {PASSWORD}")
"""

CAREFUL_TEST = """
import structlog

from orderly.core.logging import configure_logging


def test_logs_nothing_secret():
    configure_logging(level="INFO", fmt="json")
    structlog.get_logger("careful").info("signed_up", password="redacted by key")
"""


def _pytest_session(
    repo_root: Path, tmp_path: Path, test_source: str, workers: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(test_source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PYTEST_"))}
    env |= {"PYTHONPATH": str(repo_root), "TMPDIR": str(tmp_path)}
    return subprocess.run(  # noqa: S603 - pytest on a test file of ours
        [sys.executable, "-m", "pytest", "-p", "tests.support.log_scan", "-n", workers],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_password_in_a_log_line_fails_the_session(
    repo_root: Path, tmp_path: Path, workers: str
) -> None:
    result = _pytest_session(repo_root, tmp_path, CARELESS_TEST, workers)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "1 passed" in result.stdout  # the test itself passed: the scan failed the run
    assert "secrets in the test session's logs" in result.stdout
    assert ".log:1: a test password" in result.stdout


def test_a_session_whose_logs_hold_no_secret_passes(repo_root: Path, tmp_path: Path) -> None:
    result = _pytest_session(repo_root, tmp_path, CAREFUL_TEST, "0")
    assert result.returncode == pytest.ExitCode.OK, result.stdout + result.stderr
    assert "secrets in the test session's logs" not in result.stdout

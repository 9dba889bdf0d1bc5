"""The harness's only console output: progress lines and the final report."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()

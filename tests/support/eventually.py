"""Waiting for what happens in the background (a job, on either engine)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

WITHIN_SECONDS = 30.0  # generous: "it happens", on a loaded machine


async def eventually(
    condition: Callable[[], object], what: str, within: float = WITHIN_SECONDS
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)

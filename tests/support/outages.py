"""What the Redis-outage tests share: the timeouts they configure, how they time a request
and how they count what was committed behind the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from orderly.core.database import DATABASE
from orderly.orders.models import Order
from tests.support.parts import part

REDIS_TIMEOUT = 0.5
# What a bounded request may take beyond its timeouts on a loaded 2-core machine.
SLACK = 1.0
# Outlasts any bounded request: a hang fails the test instead of the run.
HANG_SECONDS = 30


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The answer and the seconds it took."""
    started = time.perf_counter()
    answer = await asyncio.wait_for(request, timeout=HANG_SECONDS)
    return answer, time.perf_counter() - started


async def orders_in_database(app: FastAPI) -> int:
    async with part(app, DATABASE).session(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(Order))).scalar_one())

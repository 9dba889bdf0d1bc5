"""``orderly events tail``, run as users run it, against a real server socket."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import httpx
from fastapi import FastAPI

from tests.live.conftest import WAIT_SECONDS, hub_of, open_shop, publish, wait_for
from tests.support.api import add_api_key

TAIL = [sys.executable, "-m", "orderly", "events", "tail"]


async def _tail(*args: str, api_key: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    return await asyncio.create_subprocess_exec(
        *TAIL,
        *args,
        env=env | {"ORDERLY_API_KEY": api_key},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_events_tail_prints_the_replayed_then_the_live_events(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    key = (await add_api_key(client, shop.owner, ["read:orders", "read:items"]))["key"]
    await shop.order(client)
    await publish(app)
    process = await _tail(
        "--url", live_server, "--after", "0", "--count", "3", "--json", api_key=key
    )
    try:
        await wait_for(lambda: hub_of(app).size == 1, "the tail subscribed")
        live_order = await shop.order(client)
        await publish(app)
        out, err = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert [(e["seq"], e["type"]) for e in events] == [
        (1, "item.created"),
        (2, "order.created"),
        (3, "order.created"),
    ]
    assert events[2]["data"]["id"] == live_order


async def test_events_tail_with_a_key_that_may_see_nothing_fails_in_one_line(
    client: httpx.AsyncClient, live_server: str
) -> None:
    shop = await open_shop(client)
    key = (await add_api_key(client, shop.owner, ["write:orders"]))["key"]
    process = await _tail("--url", live_server, api_key=key)
    out, err = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    assert process.returncode == 2
    assert "403 INSUFFICIENT_SCOPE" in err.decode()
    assert "Traceback" not in err.decode() + out.decode()

"""``orderly exports create``, run as users run it, against a real server socket."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI

from orderly.core.database import DATABASE
from tests.exports.support import insert_orders, open_shop
from tests.support.api import add_api_key
from tests.support.parts import part

CREATE = [sys.executable, "-m", "orderly", "exports", "create"]
WAIT_SECONDS = 60.0


async def run_cli(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    process = await asyncio.create_subprocess_exec(
        *CREATE,
        *args,
        env=env | {"COLUMNS": "100"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_exports_create_follows_the_progress_and_saves_the_file(
    client: httpx.AsyncClient, app: FastAPI, live_server: str, tmp_path: Path
) -> None:
    shop = await open_shop(client)
    await insert_orders(part(app, DATABASE).engine, shop, 12, lines=2)
    await insert_orders(part(app, DATABASE).engine, shop, 3, status="paid")
    key = (await add_api_key(client, shop.owner, ["read:orders"]))["key"]
    target = tmp_path / "paid.csv"

    code, out, err = await run_cli(
        "--api-key", key, "--base-url", live_server, "--status", "paid", "-o", str(target)
    )

    assert code == 0, err
    with target.open(newline="") as saved:
        rows = list(csv.DictReader(saved))
    assert len(rows) == 3
    assert {row["order_status"] for row in rows} == {"paid"}
    assert "queued" in out
    assert f"Saved 3 rows to {target}" in out.replace("\n", "")


async def test_exports_create_on_a_plan_without_exports_fails_in_one_line(
    client: httpx.AsyncClient, live_server: str, tmp_path: Path
) -> None:
    shop = await open_shop(client, plan="free")
    key = (await add_api_key(client, shop.owner, ["read:orders"]))["key"]
    code, out, err = await run_cli(
        "--api-key", key, "--url", live_server, "-o", str(tmp_path / "x")
    )
    assert code == 2
    assert "402 PLAN_UPGRADE_REQUIRED" in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "x").exists()

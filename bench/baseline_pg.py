"""The physical limit of an uncached catalog page: raw ASGI + asyncpg.

``GET /api/v1/items`` fetches the same 21 rows Orderly's uncached page fetches (the
seeded tenant's items, newest first, one more than the page to know whether there is
a next one) with a prepared statement on a pooled connection, and serializes them in
the same JSON shape (pydantic-core's Rust serializer). No routing, no validation, no
authentication, no middleware: the least any server can do per uncached request here,
so Orderly's uncached page is measured against it as well as against bare FastAPI.

Environment: ``BENCH_PG_DSN`` (the run's Orderly database).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
from pydantic_core import to_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PAGE_SQL = """
SELECT id, sku, name, description, price_minor, currency, stock, archived_at, version,
       created_at, updated_at
FROM items WHERE tenant_id = $1
ORDER BY created_at DESC, id DESC LIMIT 21
"""
_HEADERS = [(b"content-type", b"application/json")]


class PageServer:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.tenant_id = ""

    async def startup(self) -> None:
        self.pool = await asyncpg.create_pool(os.environ["BENCH_PG_DSN"], min_size=10, max_size=10)
        async with self.pool.acquire() as conn:
            self.tenant_id = str(await conn.fetchval("SELECT id FROM tenants ORDER BY id LIMIT 1"))

    async def page(self) -> bytes:
        if self.pool is None:
            raise RuntimeError("the page server has not started")
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(PAGE_SQL, self.tenant_id)  # prepared and cached by asyncpg
        items = [
            {
                "id": r["id"],
                "sku": r["sku"],
                "name": r["name"],
                "description": r["description"],
                "price": f"{r['price_minor'] // 100}.{r['price_minor'] % 100:02d}",
                "currency": r["currency"],
                "stock": r["stock"],
                "active": r["archived_at"] is None,
                "version": r["version"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
            }
            for r in rows[:20]
        ]
        next_cursor = "next" if len(rows) > 20 else None
        return to_json({"items": items, "next_cursor": next_cursor})


server = PageServer()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await server.startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if server.pool is not None:
                await server.pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["path"] == "/api/v1/items":
        status, body = 200, await server.page()
    elif scope["path"] == "/health/live":
        status, body = 200, b'{"status":"alive"}'
    else:
        status, body = 404, b'{"status":404}'
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": body})

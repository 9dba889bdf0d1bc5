"""Raw ASGI baseline: precomputed bytes, the server's (uvicorn + uvloop) physical limit.

``/api/v1/items`` answers the same bytes the bare-FastAPI baseline answers for
``/api/v1/items?limit=20`` with the catalog as seeded; ``/health/live`` is served too
so the harness can wait for readiness the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench.baseline_data import PAGE_ADAPTER, Catalog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = b"application/json"
_ROUTES: dict[str, bytes] = {
    "/api/v1/items": PAGE_ADAPTER.dump_json(Catalog().page(20)),
    "/health/live": b'{"status":"alive"}',
}
_NOT_FOUND = b'{"status":404,"title":"Not Found"}'


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    body = _ROUTES.get(scope["path"])
    status = 200 if body is not None else 404
    payload = body if body is not None else _NOT_FOUND
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", _JSON),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})

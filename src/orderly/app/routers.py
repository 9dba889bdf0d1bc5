"""Every router of the app: the versioned API (public routes by decision, everything
else behind a principal) and the probes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from orderly.api_keys.router import router as api_keys_router
from orderly.auth.router import router as auth_router
from orderly.core.access import AUTHENTICATION_ERRORS, get_principal
from orderly.core.dependencies import tenant_data_headers
from orderly.core.responses import EDGE, problems
from orderly.exports.router import router as exports_router
from orderly.health.router import router as health_router
from orderly.items.router import router as items_router
from orderly.live.router import router as live_router
from orderly.live.router import socket_router as live_socket_router
from orderly.orders.router import router as orders_router
from orderly.tenants.router import router as tenants_router
from orderly.users.router import router as users_router
from orderly.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"


# Authentication is attached where a router is included: a route added to one of these
# routers cannot be public by accident. Hottest first (the app tries them in order).
PROTECTED_ROUTERS: tuple[APIRouter, ...] = (
    items_router,
    orders_router,
    users_router,
    api_keys_router,
    tenants_router,
    webhooks_router,
    exports_router,
    live_router,
)
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (auth_router,)
# WebSocket routes authenticate in their handler, before accepting the handshake (a
# refusal is a close with 1008, which a dependency raising 401 cannot produce).
SOCKET_ROUTERS: tuple[APIRouter, ...] = (live_socket_router,)


def include_routers(app: FastAPI) -> None:
    """Include every domain router directly under the app, one level deep.

    FastAPI 0.16x includes routers lazily and, on every request, matches each level of
    nesting again from the top (fastapi/fastapi#16159); the three levels this API had
    (api -> protected -> domain) cost a third of a cached read. Flat, it costs one scan.
    """
    protected = [Depends(get_principal), Depends(tenant_data_headers)]
    unauthenticated = problems(*AUTHENTICATION_ERRORS)  # documented where it is required
    for router in PROTECTED_ROUTERS:
        app.include_router(
            router, prefix=API_PREFIX, dependencies=protected, responses=unauthenticated | EDGE
        )
    for router in PUBLIC_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=EDGE)
    for router in SOCKET_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_router, responses=EDGE)

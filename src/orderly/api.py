"""The versioned API: public routes by decision, everything else behind a principal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from orderly.api_keys.router import router as api_keys_router
from orderly.auth.dependencies import get_principal
from orderly.auth.router import router as auth_router
from orderly.core.responses import TENANT_DATA_HEADERS
from orderly.items.router import router as items_router
from orderly.orders.router import router as orders_router
from orderly.users.router import router as users_router

public_router = APIRouter()
public_router.include_router(auth_router)


async def tenant_data_headers(response: Response) -> None:
    response.headers.update(TENANT_DATA_HEADERS)


# Authentication is on the parent: a route added here cannot be public by accident.
protected_router = APIRouter(dependencies=[Depends(get_principal), Depends(tenant_data_headers)])
protected_router.include_router(users_router)
protected_router.include_router(api_keys_router)
protected_router.include_router(items_router)
protected_router.include_router(orders_router)

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(public_router)
api_router.include_router(protected_router)

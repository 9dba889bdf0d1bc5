from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from orderly.core.errors import InsufficientScopeError
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.responses import problems, with_headers
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.orders.dependencies import OrdersReadService, OrdersWriteService
from orderly.orders.exceptions import (
    InsufficientStockError,
    InvalidOrderStateError,
    ItemNotOrderableError,
    MaxOrderQuantityError,
    MixedCurrenciesError,
    OrderNotFoundError,
)
from orderly.orders.schemas import OrderCreate, OrderId, OrderRead
from orderly.orders.states import OrderStatus

# POST and PATCH honour Idempotency-Key (SPEC "Idempotency").
router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order (stock is reserved atomically, all lines or none)",
    description="Lines naming the same item are merged (quantities added). At most 100 "
    "of an item per order (422 `BUSINESS_RULE_MAX_ORDER_QUANTITY`); unknown or archived "
    "items and mixed currencies are 422 naming the line; not enough stock is 409 "
    "`INSUFFICIENT_STOCK` naming the item. In every such case nothing is reserved.",
    responses=with_headers(201, "Location")
    | problems(
        InsufficientScopeError,
        InsufficientStockError,
        MaxOrderQuantityError,
        ItemNotOrderableError,
        MixedCurrenciesError,
        *IDEMPOTENCY_ERRORS,
    ),
    dependencies=[IDEMPOTENT],
)
async def create_order(
    body: OrderCreate, orders: OrdersWriteService, response: Response
) -> OrderRead:
    order = await orders.create(body)
    response.headers["Location"] = f"/api/v1/orders/{order.id}"
    return order


@router.get(
    "",
    summary="List orders, newest first (members see their own)",
    responses=problems(InsufficientScopeError, InvalidCursorError),
)
async def list_orders(
    orders: OrdersReadService,
    limit: Limit = 20,
    cursor: Cursor = None,
    status_filter: Annotated[
        OrderStatus | None, Query(alias="status", description="Only orders in this state.")
    ] = None,
) -> Page[OrderRead]:
    return await orders.list(limit=limit, cursor=cursor, status=status_filter)


@router.get(
    "/{order_id}",
    summary="One order",
    responses=problems(InsufficientScopeError, OrderNotFoundError),
)
async def get_order(order_id: OrderId, orders: OrdersReadService) -> OrderRead:
    return await orders.get(order_id)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an order and put its stock back",
    description="Only pending orders (or ones whose payment failed) can be cancelled; "
    "otherwise 409 `INVALID_ORDER_STATE`.",
    responses=problems(
        InsufficientScopeError, OrderNotFoundError, InvalidOrderStateError, *IDEMPOTENCY_ERRORS
    ),
    dependencies=[IDEMPOTENT],
)
async def cancel_order(order_id: OrderId, orders: OrdersWriteService) -> OrderRead:
    return await orders.cancel(order_id)

"""Who may read and place orders, and the services bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import require_scope
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Scope
from orderly.orders.service import OrderService

# Any user (members see their own orders: OrderService); API keys by scope.
OrdersRead = Annotated[Principal, Depends(require_scope(Scope.READ_ORDERS))]
OrdersWrite = Annotated[Principal, Depends(require_scope(Scope.WRITE_ORDERS))]

OrdersReadService = Annotated[OrderService, service(OrderService, OrdersRead)]
OrdersWriteService = Annotated[OrderService, service(OrderService, OrdersWrite)]

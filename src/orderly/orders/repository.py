from __future__ import annotations

from typing import Any

from sqlalchemy import Select, update
from sqlalchemy.orm import selectinload

from orderly.core.database import utcnow
from orderly.core.pagination import Position
from orderly.core.repository import TenantRepository
from orderly.orders.models import Order
from orderly.orders.states import OrderStatus

WITH_LINES = selectinload(Order.lines)


class OrderRepository(TenantRepository[Order]):
    model = Order

    def visible(self, *, placed_by: str | None, status: OrderStatus | None = None) -> Select[Any]:
        """The tenant's orders, narrowed to one user's when ``placed_by`` is given."""
        stmt = self.scoped()
        if placed_by is not None:
            stmt = stmt.where(Order.user_id == placed_by)
        if status is not None:
            stmt = stmt.where(Order.status == status)
        return stmt

    async def find(self, order_id: str, *, placed_by: str | None) -> Order | None:
        stmt = self.visible(placed_by=placed_by).where(Order.id == order_id).options(WITH_LINES)
        order: Order | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return order

    async def page_with_lines(
        self, stmt: Select[Any], after: Position | None, limit: int
    ) -> tuple[list[Order], Position | None]:
        """One query for the orders and one for all their lines (no N+1)."""
        rows, last = await self.page(stmt.options(WITH_LINES), after, limit)
        return list(rows), last

    async def move(
        self, order_id: str, sources: frozenset[OrderStatus], target: OrderStatus
    ) -> bool:
        """Change the status only if it is still one of ``sources``: of two concurrent
        cancellations exactly one wins, so stock is restored once."""
        result = await self.session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                Order.tenant_id == self.tenant_id,
                Order.status.in_(sources),
            )
            .values(status=target, updated_at=utcnow())
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from orderly.core.database import utcnow
from orderly.core.pagination import Position
from orderly.core.repository import TenantRepository
from orderly.orders.models import Order, OrderLine
from orderly.orders.states import OrderStatus

WITH_LINES = selectinload(Order.lines)
# Placing an order writes two plain INSERTs built once, from plain records: no ORM
# objects and no unit-of-work flush for rows this request never reads back (the
# response is built from the same records).
_INSERT_ORDER = insert(cast(Table, Order.__table__))
_INSERT_LINES = insert(cast(Table, OrderLine.__table__))


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    position: int
    item_id: str
    sku: str
    name: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order to insert, every column decided (same attribute names as ``Order``)."""

    id: str
    tenant_id: str
    status: OrderStatus
    currency: str
    total_minor: int
    user_id: str | None
    api_key_id: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[NewOrderLine]


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

    def matching(
        self,
        *,
        status: OrderStatus | None,
        created_after: datetime | None,
        created_before: datetime | None,
        as_of: datetime,
    ) -> Select[Any]:
        """The tenant's orders in a time window (after inclusive, before exclusive),
        none placed after ``as_of``: a long read sees the tenant as it was then."""
        stmt = self.visible(placed_by=None, status=status).where(Order.created_at <= as_of)
        if created_after is not None:
            stmt = stmt.where(Order.created_at >= created_after)
        if created_before is not None:
            stmt = stmt.where(Order.created_at < created_before)
        return stmt

    async def count(self, stmt: Select[Any]) -> int:
        counted = stmt.with_only_columns(func.count(Order.id)).order_by(None)
        return int((await self.session.execute(counted)).scalar_one())

    async def insert_new(self, order: NewOrder) -> None:
        """Write a new order and its lines."""
        if order.tenant_id != self.tenant_id:
            raise ValueError("an order is written under its own tenant only")
        row = {
            "id": order.id,
            "tenant_id": order.tenant_id,
            "status": order.status,
            "currency": order.currency,
            "total_minor": order.total_minor,
            "user_id": order.user_id,
            "api_key_id": order.api_key_id,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
        }
        await self.session.execute(_INSERT_ORDER, row)
        lines = [
            {
                "order_id": order.id,
                "position": line.position,
                "item_id": line.item_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
            }
            for line in order.lines
        ]
        await self.session.execute(_INSERT_LINES, lines)

    async def find(self, order_id: str, *, placed_by: str | None) -> Order | None:
        stmt = self.visible(placed_by=placed_by).where(Order.id == order_id).options(WITH_LINES)
        order: Order | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return order

    async def page_with_lines(
        self, stmt: Select[Any], after: Position | None, rows: int
    ) -> Sequence[Order]:
        """One query for the orders and one for all their lines (no N+1)."""
        return await self.page(stmt.options(WITH_LINES), after, rows)

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


@dataclass(frozen=True, slots=True)
class UnpaidOrder:
    tenant_id: str
    id: str
    created_at: datetime


class UnpaidOrders:
    """Orders waiting for payment, across tenants: the expiry job's scan, and nothing
    else (it reads ids to hand to a tenant's ``OrderRepository``, never order data)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def placed_before(
        self,
        cutoff: datetime,
        statuses: frozenset[OrderStatus],
        *,
        after: UnpaidOrder | None,
        limit: int,
    ) -> list[UnpaidOrder]:
        """Oldest first, from after ``after`` (keyset): an order that cannot be expired
        is passed over instead of being found first again."""
        stmt = (
            select(Order.tenant_id, Order.id, Order.created_at)
            .where(Order.status.in_(statuses), Order.created_at < cutoff)
            .order_by(Order.created_at, Order.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(
                or_(
                    Order.created_at > after.created_at,
                    and_(Order.created_at == after.created_at, Order.id > after.id),
                )
            )
        rows = (await self.session.execute(stmt)).all()
        return [UnpaidOrder(tenant_id, id_, created_at) for tenant_id, id_, created_at in rows]

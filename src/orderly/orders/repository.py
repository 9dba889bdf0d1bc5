from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    TextClause,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from orderly.core.database import utcnow
from orderly.core.outbox import OutboxRow
from orderly.core.pagination import Position
from orderly.core.repository import TenantRepository
from orderly.orders.models import Order, OrderLine
from orderly.orders.states import OrderStatus

WITH_LINES = selectinload(Order.lines)
# Placing an order writes two plain INSERTs built once, from plain records: no ORM
# objects and no unit-of-work flush for rows this request never reads back (the
# response is built from the same records).
_ORDERS = cast(Table, Order.__table__)
_INSERT_ORDER = insert(_ORDERS)
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


# Takes stock (item id, quantity), lines already sorted by item id; answers the stock
# left, or None when the item had too little (or is archived, or not the tenant's).
TakeStock = Callable[[str, int], Awaitable[int | None]]
Takes = Sequence[tuple[str, int]]

# PostgreSQL places an order in one statement: data-modifying CTEs take the stock (a
# conditional UPDATE per line), and only if every line got its stock insert the order,
# its lines and its outbox row; the answer is the stock left of each item taken. One
# round trip instead of five, and the hot item's row is locked from this statement to
# the COMMIT that follows it, nothing in between. ``locked`` takes the row locks in item
# id order first (two orders for the same items cannot deadlock), and the UPDATE then
# re-checks ``stock >= quantity`` on the row version it locked (READ COMMITTED), so no
# oversell. A partial take (one line short) inserts nothing and the caller raises:
# the unit of work rolls the other lines' decrements back.
_PLACE_PG = """
WITH wanted AS (
    SELECT w.item_id, w.quantity
    FROM unnest(CAST(:take_ids AS VARCHAR[]), CAST(:take_quantities AS INTEGER[]))
        AS w(item_id, quantity)
),
locked AS (
    SELECT items.id FROM items JOIN wanted ON items.id = wanted.item_id
    WHERE items.tenant_id = :tenant_id
    ORDER BY items.id
    FOR UPDATE OF items
),
taken AS (
    UPDATE items
    SET stock = items.stock - wanted.quantity, version = items.version + 1,
        updated_at = :now
    FROM wanted, locked
    WHERE items.id = wanted.item_id AND locked.id = items.id
        AND items.tenant_id = :tenant_id AND items.archived_at IS NULL
        AND items.stock >= wanted.quantity
    RETURNING items.id, items.stock
),
placed AS (
    INSERT INTO orders (id, tenant_id, status, currency, total_minor, user_id,
        api_key_id, created_at, updated_at)
    SELECT :order_id, :tenant_id, :status, :currency, CAST(:total_minor AS BIGINT),
        :user_id, :api_key_id, :now, :now
    WHERE (SELECT count(*) FROM taken) = :take_count
    RETURNING id
),
placed_lines AS (
    INSERT INTO order_lines (order_id, position, item_id, sku, name, quantity,
        unit_price_minor)
    SELECT placed.id, l.position, l.item_id, l.sku, l.name, l.quantity, l.unit_price_minor
    FROM placed, unnest(CAST(:line_positions AS INTEGER[]), CAST(:line_items AS VARCHAR[]),
        CAST(:line_skus AS VARCHAR[]), CAST(:line_names AS VARCHAR[]),
        CAST(:line_quantities AS INTEGER[]), CAST(:line_prices AS BIGINT[]))
        AS l(position, item_id, sku, name, quantity, unit_price_minor)
),
placed_event AS (
    INSERT INTO {events} ({event_columns})
    SELECT {event_values} FROM placed
)
SELECT id, stock FROM taken
"""


@lru_cache(maxsize=4)
def _place_statement(events: Table, columns: tuple[str, ...]) -> TextClause:
    """The statement for an outbox table and its columns (the events domain's, known
    once the app runs): built once. The names are the models', never input."""
    sql = _PLACE_PG.format(
        events=events.name,
        event_columns=", ".join(columns),
        event_values=", ".join(f":event_{name}" for name in columns),
    )
    typed = [bindparam(f"event_{name}", type_=events.c[name].type) for name in columns]
    typed += [bindparam("now", type_=_ORDERS.c.created_at.type)]
    return text(sql).bindparams(*typed)


class OrderRepository(TenantRepository[Order]):
    model = Order

    async def place(
        self, order: NewOrder, takes: Takes, event: OutboxRow, take: TakeStock
    ) -> dict[str, int]:
        """Write ``order``, its lines and ``event``, and take the stock of ``takes``
        (sorted by item id): the stock left of every item taken. An item missing from
        the answer had too little; then the caller must fail the unit of work, which
        rolls back whatever was written. On PostgreSQL one statement (``_PLACE_PG``);
        on SQLite, whose writers hold the whole file from BEGIN IMMEDIATE anyway, the
        plain INSERTs and then one ``take`` per line, stopping at the first short one."""
        if order.tenant_id != self.tenant_id:
            raise ValueError("an order is written under its own tenant only")
        if self.session.get_bind().dialect.name == "postgresql":
            return await self._place_in_one_statement(order, takes, event)
        await self.insert_new(order)
        await self.session.execute(insert(event.table), event.values)
        left: dict[str, int] = {}
        for item_id, quantity in takes:
            stock = await take(item_id, quantity)
            if stock is None:
                break
            left[item_id] = stock
        return left

    async def _place_in_one_statement(
        self, order: NewOrder, takes: Takes, event: OutboxRow
    ) -> dict[str, int]:
        columns = tuple(event.values)
        params: dict[str, object] = {f"event_{name}": event.values[name] for name in columns}
        params |= {
            "take_ids": [item_id for item_id, _ in takes],
            "take_quantities": [quantity for _, quantity in takes],
            "take_count": len(takes),
            "tenant_id": order.tenant_id,
            "now": order.created_at,
            "order_id": order.id,
            "status": order.status.value,
            "currency": order.currency,
            "total_minor": order.total_minor,
            "user_id": order.user_id,
            "api_key_id": order.api_key_id,
            "line_positions": [line.position for line in order.lines],
            "line_items": [line.item_id for line in order.lines],
            "line_skus": [line.sku for line in order.lines],
            "line_names": [line.name for line in order.lines],
            "line_quantities": [line.quantity for line in order.lines],
            "line_prices": [line.unit_price_minor for line in order.lines],
        }
        result = await self.session.execute(_place_statement(event.table, columns), params)
        return {item_id: stock for item_id, stock in result.all()}

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

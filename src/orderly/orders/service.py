"""Orders: placing them (stock reserved atomically, all or nothing), reading them, and
moving them through the state machine. Members see and change only their own orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Select

from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.failures import FAILURES
from orderly.core.money import format_minor
from orderly.core.pagination import CURSORS, Page, Position
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.events.types import EventType
from orderly.items.service import ItemService
from orderly.orders.exceptions import InvalidOrderStateError, OrderNotFoundError
from orderly.orders.models import Order
from orderly.orders.placement import prepare_order, stock_taken, stock_to_take
from orderly.orders.repository import NewOrder, OrderRepository, UnpaidOrder, UnpaidOrders
from orderly.orders.schemas import OrderCreate, OrderLineRead, OrderRead
from orderly.orders.states import OrderStatus, can_transition, sources_of

CURSOR_KIND = "orders"
# Orders looked at per scan, and scans per run: a run is bounded (the next one, a
# minute later, goes on), and each order is its own small transaction.
EXPIRY_BATCH = 100
EXPIRY_MAX_BATCHES = 20

logger = structlog.get_logger("orderly.orders")


def order_read(order: Order | NewOrder) -> OrderRead:
    return OrderRead(
        id=order.id,
        status=order.status,
        lines=[
            OrderLineRead(
                item_id=line.item_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=format_minor(line.unit_price_minor, order.currency),
            )
            for line in order.lines
        ],
        total=format_minor(order.total_minor, order.currency),
        currency=order.currency,
        user_id=order.user_id,
        api_key_id=order.api_key_id,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


class OrderService:
    """The orders of the caller's tenant; stock through the catalog's ``ItemService``."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.session = uow.session
        self.principal = uow.principal
        self.cursors = parts[CURSORS]
        self.repo = OrderRepository(uow.session, self.principal.tenant_id)
        self.catalog = ItemService(uow, parts)

    @property
    def _placed_by(self) -> str | None:
        """The object-level rule: members are limited to the orders they placed."""
        return None if self.principal.sees_everything_in_tenant() else self.principal.user_id

    async def create(self, data: OrderCreate) -> OrderRead:
        placement = await prepare_order(self.catalog, self.principal, data)
        read = order_read(placement.order)
        event = self.uow.event_row(
            EventType.ORDER_CREATED,
            tenant_id=self.principal.tenant_id,
            subject_id=read.id,
            payload=read,
        )
        # The order, its lines, its event and the stock in one repository call (one
        # statement on PostgreSQL): the hot item's row is locked from there to the
        # commit. A line that does not fit rolls the whole order (and its event) back.
        takes = stock_to_take(placement.lines)
        left = await self.repo.place(placement.order, takes, event, self.catalog.take)
        await stock_taken(self.catalog, takes, left, placement.items)
        return read

    async def list(
        self, *, limit: int, cursor: str | None, status: OrderStatus | None
    ) -> Page[OrderRead]:
        stmt = self.repo.visible(placed_by=self._placed_by, status=status)
        fetch = partial(self.repo.page_with_lines, stmt)
        rows, next_cursor = await self.cursors.page(CURSOR_KIND, fetch, limit=limit, cursor=cursor)
        return Page[OrderRead](items=[order_read(row) for row in rows], next_cursor=next_cursor)

    async def get(self, order_id: str) -> OrderRead:
        return order_read(await self._find(order_id))

    async def cancel(self, order_id: str) -> OrderRead:
        order = await self._find(order_id)
        target = OrderStatus.CANCELLED
        if not can_transition(order.status, target):
            raise InvalidOrderStateError(order.status, target)
        if not await self.repo.move(order.id, sources_of(target), target):
            # Someone else moved it since we read it; report the state it is in now.
            await self.session.refresh(order, ["status"])
            raise InvalidOrderStateError(order.status, target)
        for line in order.lines:
            await self.catalog.release(line.item_id, line.quantity)
        await self.session.refresh(order, ["status", "updated_at"])
        read = order_read(order)
        await self._record(EventType.ORDER_CANCELLED, read)
        return read

    async def _find(self, order_id: str) -> Order:
        order = await self.repo.find(order_id, placed_by=self._placed_by)
        if order is None:
            raise OrderNotFoundError(order_id)
        return order

    async def _record(self, event_type: EventType, read: OrderRead) -> None:
        await self.uow.record_event(
            event_type, tenant_id=self.principal.tenant_id, subject_id=read.id, payload=read
        )


@dataclass(frozen=True, slots=True)
class OrderWindow:
    """Which orders a bulk read takes: a state, a time window (after inclusive, before
    exclusive) and none placed after ``as_of``."""

    as_of: datetime
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


class TenantOrders:
    """Every order of one tenant in a window, page by page (keyset, newest first): for
    system work such as an export, which acts for the tenant rather than for a caller
    (no principal, no member narrowing). Each page is read by the caller's unit of work,
    so a long read holds no connection between pages."""

    def __init__(self, uow: UnitOfWork, tenant_id: str) -> None:
        self.repo = OrderRepository(uow.session, tenant_id)

    def _matching(self, window: OrderWindow) -> Select[Any]:
        return self.repo.matching(
            status=window.status,
            created_after=window.created_after,
            created_before=window.created_before,
            as_of=window.as_of,
        )

    async def count(self, window: OrderWindow) -> int:
        return await self.repo.count(self._matching(window))

    async def page(
        self, window: OrderWindow, after: Position | None, rows: int
    ) -> Sequence[OrderRead]:
        orders = await self.repo.page_with_lines(self._matching(window), after, rows)
        return [order_read(order) for order in orders]


class OrderExpiry:
    """Unpaid orders past their payment window become ``expired``, their stock comes
    back and ``order.expired`` is recorded. System work for every tenant: no principal,
    and each order in a unit of work of its own, so one order's failure (or a lock
    wait) neither rolls back nor holds up the others."""

    def __init__(self, parts: Container, *, ttl_seconds: int) -> None:
        self.parts = parts
        self.ttl = timedelta(seconds=ttl_seconds)

    async def run(self, now: datetime | None = None) -> int:
        """Expire what is due; how many orders this run expired."""
        cutoff = (now or utcnow()) - self.ttl
        expired, after = 0, None
        for _ in range(EXPIRY_MAX_BATCHES):
            async with unit_of_work(self.parts, write=False) as uow:
                due = await UnpaidOrders(uow.session).placed_before(
                    cutoff, sources_of(OrderStatus.EXPIRED), after=after, limit=EXPIRY_BATCH
                )
            for order in due:
                expired += await self._expire_one(order)
            if len(due) < EXPIRY_BATCH:
                break
            after = due[-1]
        return expired

    async def _expire_one(self, order: UnpaidOrder) -> int:
        try:
            async with unit_of_work(self.parts) as uow:
                return int(await expire_order(uow, self.parts, order.tenant_id, order.id))
        except Exception as exc:  # the others still expire; this one is tried next run
            self.parts[FAILURES].count("job:orders.expire_unpaid")
            logger.error("order_expiry_failed", order_id=order.id, exc_info=exc)
            return 0


async def expire_order(uow: UnitOfWork, parts: Container, tenant_id: str, order_id: str) -> bool:
    """Expire one order if it is still unpaid; False when someone else moved it first.

    The conditional UPDATE is the whole race: of an expiry and a concurrent cancel (or
    payment) exactly one moves the row, so stock is restored once and one event says
    what happened."""
    repo = OrderRepository(uow.session, tenant_id)
    target = OrderStatus.EXPIRED
    if not await repo.move(order_id, sources_of(target), target):
        return False
    order = await repo.find(order_id, placed_by=None)
    if order is None:  # pragma: no cover - the row was just updated in this transaction
        raise OrderNotFoundError(order_id)
    catalog = ItemService(uow, parts, tenant_id=tenant_id)
    # By item id, as placement takes them: two transactions touching the same items
    # lock them in the same order and cannot deadlock.
    for line in sorted(order.lines, key=lambda line: line.item_id):
        await catalog.release(line.item_id, line.quantity)
    read = order_read(order)
    await uow.record_event(
        EventType.ORDER_EXPIRED, tenant_id=tenant_id, subject_id=order.id, payload=read
    )
    return True

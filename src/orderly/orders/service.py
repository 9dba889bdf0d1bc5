"""Orders: placing them (stock reserved atomically, all or nothing), reading them, and
moving them through the state machine. Members see and change only their own orders."""

from __future__ import annotations

from functools import partial

from orderly.core.container import Container
from orderly.core.money import format_minor
from orderly.core.pagination import CURSORS, Page
from orderly.core.unit_of_work import UnitOfWork
from orderly.events.types import EventType
from orderly.items.service import ItemService
from orderly.orders.exceptions import InvalidOrderStateError, OrderNotFoundError
from orderly.orders.models import Order
from orderly.orders.placement import prepare_order, take_stock
from orderly.orders.repository import NewOrder, OrderRepository
from orderly.orders.schemas import OrderCreate, OrderLineRead, OrderRead
from orderly.orders.states import OrderStatus, can_transition, sources_of

CURSOR_KIND = "orders"


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
        await self.repo.insert_new(placement.order)
        read = order_read(placement.order)
        await self._record(EventType.ORDER_CREATED, read)
        # Stock last: the conditional UPDATE locks the item rows until the commit, so
        # everything else is written first and a hot item is locked for one round trip
        # plus the commit, not for every INSERT of the order. A line that does not fit
        # still rolls the whole order (and its event) back.
        await take_stock(self.catalog, placement.lines, placement.items)
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

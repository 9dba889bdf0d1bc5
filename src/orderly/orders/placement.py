"""Placing an order: validate the lines and build the order (``prepare_order``), then,
once the repository has written it and taken the stock (``OrderRepository.place``),
fail on a short line or report what was taken (``stock_taken``).

Stock is taken with a conditional UPDATE per item (``stock = stock - q WHERE stock >=
q``) inside the request's transaction (``OrderRepository.place``), so concurrent orders
can never oversell: the database serializes the decrements of one row, and a line that
does not fit fails the whole order, whose transaction then rolls back every decrement
already made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderly.core.database import new_id, utcnow
from orderly.core.errors import FieldError
from orderly.core.identity import Principal
from orderly.items.schemas import OrderableItem
from orderly.items.service import ItemService
from orderly.orders.exceptions import (
    InsufficientStockError,
    ItemNotOrderableError,
    MaxOrderQuantityError,
    MixedCurrenciesError,
)
from orderly.orders.repository import NewOrder, NewOrderLine
from orderly.orders.schemas import MAX_QUANTITY_PER_ITEM, OrderCreate
from orderly.orders.states import OrderStatus


@dataclass(slots=True)
class MergedLine:
    item_id: str
    quantity: int
    first_index: int  # where the client first named the item, for error messages


def merge_lines(data: OrderCreate) -> list[MergedLine]:
    merged: dict[str, MergedLine] = {}
    for index, line in enumerate(data.lines):
        if line.item_id in merged:
            merged[line.item_id].quantity += line.quantity
        else:
            merged[line.item_id] = MergedLine(line.item_id, line.quantity, index)
    return list(merged.values())


def _field(line: MergedLine, name: str) -> str:
    return f"body.lines.{line.first_index}.{name}"


def check_quantities(lines: Sequence[MergedLine]) -> None:
    errors = [
        FieldError(
            _field(line, "quantity"),
            f"At most {MAX_QUANTITY_PER_ITEM} per item (this order asks for {line.quantity}).",
            "max_order_quantity",
        )
        for line in lines
        if line.quantity > MAX_QUANTITY_PER_ITEM
    ]
    if errors:
        raise MaxOrderQuantityError(errors, MAX_QUANTITY_PER_ITEM)


def check_items(lines: Sequence[MergedLine], items: dict[str, OrderableItem]) -> str:
    """Every line names an orderable item of this tenant, all in one currency.

    Unknown, archived and other tenants' items get the same message, so the answer
    never tells whether another tenant has an item with that id.
    """
    missing = [
        FieldError(
            _field(line, "item_id"),
            f"Item '{line.item_id}' does not exist or cannot be ordered.",
            "item_not_orderable",
        )
        for line in lines
        if line.item_id not in items
    ]
    if missing:
        raise ItemNotOrderableError(missing)
    currency = items[lines[0].item_id].currency
    mixed = [
        FieldError(
            _field(line, "item_id"),
            f"Item is priced in {items[line.item_id].currency}, the order in {currency}.",
            "currency_mismatch",
        )
        for line in lines
        if items[line.item_id].currency != currency
    ]
    if mixed:
        raise MixedCurrenciesError(mixed)
    return currency


def stock_to_take(lines: Sequence[MergedLine]) -> list[tuple[str, int]]:
    """(item id, quantity) per line, by item id: two orders for the same items lock the
    rows in the same sequence on PostgreSQL and cannot deadlock each other."""
    return sorted((line.item_id, line.quantity) for line in lines)


async def stock_taken(
    catalog: ItemService,
    takes: Sequence[tuple[str, int]],
    left: dict[str, int],
    items: dict[str, OrderableItem],
) -> None:
    """Fail on the first line (by item id) whose stock was not taken (the unit of work
    then rolls back every decrement made), else tell the catalog what was taken."""
    for item_id, quantity in takes:
        if item_id not in left:
            item = items[item_id]
            raise InsufficientStockError(item.id, item.sku, quantity)
    for item_id, quantity in takes:
        await catalog.stock_taken(item_id, quantity, left[item_id])


@dataclass(frozen=True, slots=True)
class Placement:
    """A validated order, built but not yet written, and what taking its stock needs."""

    order: NewOrder
    lines: list[MergedLine]
    items: dict[str, OrderableItem]


async def prepare_order(
    catalog: ItemService, principal: Principal, data: OrderCreate
) -> Placement:
    """Validate the lines and build the order with sku, name and price snapshotted as
    the client's request was evaluated. Writes nothing."""
    lines = merge_lines(data)
    check_quantities(lines)
    items = await catalog.orderable([ln.item_id for ln in lines])
    currency = check_items(lines, items)
    order_lines = [
        NewOrderLine(
            position=position,
            item_id=line.item_id,
            sku=items[line.item_id].sku,
            name=items[line.item_id].name,
            quantity=line.quantity,
            unit_price_minor=items[line.item_id].price_minor,
        )
        for position, line in enumerate(lines)
    ]
    now = utcnow()
    order = NewOrder(
        id=new_id("ord"),
        tenant_id=principal.tenant_id,
        created_at=now,
        updated_at=now,
        status=OrderStatus.PENDING,
        currency=currency,
        total_minor=sum(ol.quantity * ol.unit_price_minor for ol in order_lines),
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        lines=order_lines,
    )
    return Placement(order, lines, items)

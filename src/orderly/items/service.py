"""The catalog: items, their prices and their stock.

Every write to an item goes through ``ItemService`` (the routes, and orders through
``reserve`` / ``release``), bumps its ``version`` and, where the SPEC calls it a state
change, writes an outbox event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial

from pydantic_core import to_json

from orderly.core.conditional import if_match_holds
from orderly.core.container import Container
from orderly.core.database import DATABASE, new_id, utcnow
from orderly.core.errors import FieldError, PreconditionFailedError, ValidationFailedError
from orderly.core.identity import Principal
from orderly.core.money import MoneyError, format_minor, to_minor
from orderly.core.pagination import CURSORS
from orderly.core.unit_of_work import UnitOfWork
from orderly.events.types import EventType
from orderly.items.exceptions import ConcurrentUpdateError, ItemNotFoundError
from orderly.items.models import Item
from orderly.items.repository import (
    ItemFilters,
    ItemPages,
    ItemRepository,
    ListedRow,
    count_live_items,
)
from orderly.items.schemas import ItemCreate, ItemRead, ItemUpdate, OrderableItem
from orderly.tenants.gate import PLAN_GATE

CURSOR_KIND = "items"
# A reservation that leaves this many units or fewer (coming from more) announces
# ``item.stock_low``, once per crossing rather than on every sale below it.
LOW_STOCK_THRESHOLD = 5
# Optimistic updates without If-Match retry when another write slipped in between the
# read and the UPDATE (on PostgreSQL; SQLite serializes writers anyway).
UPDATE_ATTEMPTS = 3

Changes = dict[str, object]


def item_etag(item: Item) -> str:
    """Strong ETag. ``version`` grows with every write, so id + version names exactly one
    representation, and costs nothing to compute (no serialization, no hashing)."""
    return f'"{item.id}-v{item.version}"'


# Cached catalog reads of a tenant (lists, single items) go stale when a unit that
# changed an item commits.
CACHE_NAMESPACE = "catalog"


def item_read(item: Item) -> ItemRead:
    return ItemRead.model_validate(item)


def listed_item(row: ListedRow) -> dict[str, object]:
    """A listed item's ``ItemRead`` fields from its row. Unpacked as a tuple: 20 rows x
    11 named lookups on a Row were a tenth of an uncached page (py-spy)."""
    (id_, sku, name, description, price_minor, currency, stock, archived_at, version,
     created_at, updated_at) = row  # fmt: skip
    return {
        "id": id_,
        "sku": sku,
        "name": name,
        "description": description,
        "price": format_minor(price_minor, currency),
        "currency": currency,
        "stock": stock,
        "active": archived_at is None,
        "version": version,
        "created_at": created_at,
        "updated_at": updated_at,
    }


class ItemListing:
    """Catalog pages for one principal. A page reads committed rows and writes nothing,
    so it needs no unit of work: built from the caller and the container
    (``core.dependencies.reader``), it runs on a pooled connection (``ItemPages``)."""

    def __init__(self, principal: Principal, parts: Container) -> None:
        self.principal = principal
        self.cursors = parts[CURSORS]
        self.pages = ItemPages(parts[DATABASE], principal.tenant_id)

    async def page(self, filters: ItemFilters, *, limit: int, cursor: str | None) -> bytes:
        """The page's JSON (a ``Page[ItemRead]``), serialized in Rust straight from the
        rows: no model per item, nothing validated that the database already holds."""
        fetch = partial(self.pages.rows, filters)
        rows, next_cursor = await self.cursors.page(CURSOR_KIND, fetch, limit=limit, cursor=cursor)
        return to_json({"items": [listed_item(row) for row in rows], "next_cursor": next_cursor})


class ItemService:
    """The catalog of the caller's tenant, or of ``tenant_id`` for system work that acts
    for no principal (a job expiring a tenant's unpaid orders)."""

    def __init__(self, uow: UnitOfWork, parts: Container, *, tenant_id: str | None = None) -> None:
        self.uow = uow
        self.tenant_id = uow.principal.tenant_id if tenant_id is None else tenant_id
        self.repo = ItemRepository(uow.session, self.tenant_id)
        self.plans = parts[PLAN_GATE]

    async def get(self, item_id: str) -> Item:
        item = await self.repo.get_fresh(item_id)
        if item is None:
            raise ItemNotFoundError(item_id)
        return item

    async def create(self, data: ItemCreate) -> Item:
        await self.plans.check_count(self.uow, "items", count_live_items)
        item = await self.repo.add(
            Item(
                id=new_id("itm"),
                sku=data.sku,
                name=data.name,
                description=data.description,
                price_minor=to_minor(data.price, data.currency),
                currency=data.currency,
                stock=data.stock,
                version=1,
            )
        )
        await self._record(EventType.ITEM_CREATED, item)
        self.uow.mark_changed(CACHE_NAMESPACE, self.tenant_id)
        return item

    async def update(self, item_id: str, data: ItemUpdate, *, if_match: str | None) -> Item:
        changes = data.model_dump(exclude_unset=True)
        return await self._write(item_id, if_match, lambda current: _diff(current, changes))

    async def archive(self, item_id: str) -> None:
        """Archiving an archived item changes nothing and is not an error."""

        def archived(current: Item) -> Changes:
            return {"archived_at": utcnow()} if current.archived_at is None else {}

        await self._write(item_id, None, archived, EventType.ITEM_ARCHIVED)

    async def _write(
        self,
        item_id: str,
        if_match: str | None,
        changes_for: Callable[[Item], Changes],
        event_type: EventType = EventType.ITEM_UPDATED,
    ) -> Item:
        """Read, check the precondition, write only if the version is still the one
        read. Losing that race re-reads: with If-Match that becomes a 412."""
        for _ in range(UPDATE_ATTEMPTS):
            item = await self.get(item_id)
            if not if_match_holds(if_match, item_etag(item)):
                raise PreconditionFailedError
            values = changes_for(item)
            if not values:  # nothing would change: no new version, no event
                return item
            updated = await self.repo.update_if_version(item.id, item.version, values)
            if updated is not None:
                await self._record(event_type, updated)
                self.uow.mark_changed(CACHE_NAMESPACE, self.tenant_id)
                return updated
        raise ConcurrentUpdateError

    async def orderable(self, item_ids: Collection[str]) -> dict[str, OrderableItem]:
        """The tenant's items among ``item_ids`` that can be ordered (not archived), by
        id; unknown, archived and other tenants' ids are simply absent. One query."""
        if not item_ids:
            return {}
        return {item.id: item for item in await self.repo.orderable(item_ids)}

    async def reserve(self, item_id: str, quantity: int) -> int | None:
        """Take ``quantity`` units atomically; the stock left, or None (and nothing
        taken) when the item has fewer, is archived or is not the tenant's."""
        left = await self.take(item_id, quantity)
        if left is not None:
            await self.stock_taken(item_id, quantity, left)
        return left

    async def take(self, item_id: str, quantity: int) -> int | None:
        """The conditional UPDATE of ``reserve`` alone: the caller reports what it took
        with ``stock_taken`` (an order placed in one statement takes its stock there)."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        left = await self.repo.take_stock(item_id, quantity)
        return None if left is None else left.stock

    async def stock_taken(self, item_id: str, quantity: int, left: int) -> None:
        """``quantity`` units of the item were taken, ``left`` remain: cached reads of
        the catalog go stale, and crossing the low-stock threshold is announced."""
        self.uow.mark_changed(CACHE_NAMESPACE, self.tenant_id)
        if left <= LOW_STOCK_THRESHOLD < left + quantity:
            # Rare (once per crossing): only then is the whole item read for the event.
            item = await self.repo.get_fresh(item_id)
            if item is not None:
                await self._record(EventType.ITEM_STOCK_LOW, item)

    async def release(self, item_id: str, quantity: int) -> None:
        """Put ``quantity`` units back (a cancelled order), archived or not."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        if await self.repo.return_stock(item_id, quantity) is None:
            raise ItemNotFoundError(item_id)
        self.uow.mark_changed(CACHE_NAMESPACE, self.tenant_id)

    async def _record(self, event_type: EventType, item: Item) -> None:
        await self.uow.record_event(
            event_type, tenant_id=item.tenant_id, subject_id=item.id, payload=item_read(item)
        )


def _diff(item: Item, changes: Changes) -> Changes:
    """The column values that ``changes`` (an ItemUpdate's set fields) really alter.

    The price is a decimal in the item's currency: a new currency re-expresses the
    current price in it, and either must fit the currency's decimals.
    """
    price = changes.get("price")
    values = {
        field: value
        for field, value in changes.items()
        if field != "price" and getattr(item, field) != value
    }
    if price is not None or "currency" in values:
        currency = values.get("currency", item.currency)
        amount = str(price) if price is not None else item.price
        minor = _price_in(amount, str(currency), kept_price=price is None)
        if minor != item.price_minor:
            values["price_minor"] = minor
    return values


def _price_in(amount: str, currency: str, *, kept_price: bool) -> int:
    try:
        return to_minor(amount, currency)
    except MoneyError as exc:
        field, message = ("body.price", str(exc))
        if kept_price:
            field = "body.currency"
            message = f"The current price {amount} does not fit: {exc}; send a price too"
        raise ValidationFailedError(
            f"The price does not fit {currency}.", errors=[FieldError(field, message, exc.code)]
        ) from exc

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from orderly.core.database import Database, utcnow
from orderly.core.pagination import Position
from orderly.core.repository import TenantRepository
from orderly.items.exceptions import SkuConflictError
from orderly.items.models import Item
from orderly.items.schemas import OrderableItem


@dataclass(frozen=True, slots=True)
class StockLeft:
    stock: int
    version: int


# Taking stock is on every order: the statement is built once (its compiled form and
# cache key are then reused), and answers with two integers, not an ORM entity.
_items = cast(Table, Item.__table__)
_TAKE_STOCK = (
    update(_items)
    .where(
        _items.c.id == bindparam("take_item_id"),
        _items.c.tenant_id == bindparam("take_tenant_id"),
        _items.c.archived_at.is_(None),
        _items.c.stock >= bindparam("take_quantity"),
    )
    .values(
        stock=_items.c.stock - bindparam("take_quantity"),
        version=_items.c.version + 1,
        updated_at=bindparam("take_now"),
    )
    .returning(_items.c.stock, _items.c.version)
)


_ORDERABLE = select(
    _items.c.id, _items.c.sku, _items.c.name, _items.c.price_minor, _items.c.currency
).where(
    _items.c.tenant_id == bindparam("orderable_tenant_id"),
    _items.c.id.in_(bindparam("orderable_ids", expanding=True)),
    _items.c.archived_at.is_(None),
)


@dataclass(frozen=True, slots=True)
class ItemFilters:
    q: str | None = None
    active: bool | None = None
    in_stock: bool | None = None


def _contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ListedRow(NamedTuple):
    """A catalog page's row, as ``LISTED_COLUMNS`` selects it. (The rows are SQLAlchemy
    ``Row`` objects, which unpack and name their fields just like this tuple.)"""

    id: str
    sku: str
    name: str
    description: str | None
    price_minor: int
    currency: str
    stock: int
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


LISTED_COLUMNS = (
    _items.c.id,
    _items.c.sku,
    _items.c.name,
    _items.c.description,
    _items.c.price_minor,
    _items.c.currency,
    _items.c.stock,
    _items.c.archived_at,
    _items.c.version,
    _items.c.created_at,
    _items.c.updated_at,
)


@lru_cache(maxsize=64)
def _page_statement(
    *, search: bool, active: bool | None, in_stock: bool | None, after: bool
) -> Select[Any]:
    """One catalog page, newest first, as plain rows: built once per combination of
    filters (at most 36), bound per request. The hot uncached read: no ORM entities,
    no per-request statement building."""
    c = _items.c
    stmt = select(*LISTED_COLUMNS).where(c.tenant_id == bindparam("page_tenant_id"))
    if search:
        pattern = bindparam("page_pattern", type_=String)
        stmt = stmt.where(
            or_(c.name.ilike(pattern, escape="\\"), c.sku.ilike(pattern, escape="\\"))
        )
    if active is not None:
        stmt = stmt.where(c.archived_at.is_(None) if active else c.archived_at.is_not(None))
    if in_stock is not None:
        stmt = stmt.where(c.stock > 0 if in_stock else c.stock == 0)
    if after:
        at = bindparam("page_after_at", type_=c.created_at.type)
        last_id = bindparam("page_after_id", type_=String)
        stmt = stmt.where(or_(c.created_at < at, and_(c.created_at == at, c.id < last_id)))
    return stmt.order_by(c.created_at.desc(), c.id.desc()).limit(bindparam("page_rows"))


class ItemPages:
    """A tenant's catalog pages, the hottest uncached read: one prebuilt SELECT on a
    pooled connection held for that statement only (``Database.read_connection``)."""

    def __init__(self, database: Database, tenant_id: str) -> None:
        self.database = database
        self.tenant_id = tenant_id

    async def rows(
        self, filters: ItemFilters, after: Position | None, rows: int
    ) -> Sequence[ListedRow]:
        """Up to ``rows`` of the filtered catalog after ``after``, newest first."""
        stmt = _page_statement(
            search=bool(filters.q),
            active=filters.active,
            in_stock=filters.in_stock,
            after=after is not None,
        )
        params: dict[str, object] = {"page_tenant_id": self.tenant_id, "page_rows": rows}
        if filters.q:
            params["page_pattern"] = _contains(filters.q)
        if after is not None:
            params |= {"page_after_at": after.created_at, "page_after_id": after.id}
        async with self.database.read_connection() as connection:
            result = await connection.execute(stmt, params)
            return cast(Sequence[ListedRow], result.all())


class ItemRepository(TenantRepository[Item]):
    """Every write that changes an existing item is one UPDATE that bumps ``version`` and
    ``updated_at`` and refreshes the session's copy: ``_write`` for edits, the prebuilt
    ``_TAKE_STOCK`` on the order path. The service marks the catalog cache changed."""

    model = Item

    async def add(self, row: Item) -> Item:
        try:
            return await super().add(row)
        except IntegrityError as exc:  # the unique (tenant_id, sku) constraint is the check
            raise SkuConflictError(row.sku) from exc

    async def get_fresh(self, item_id: str) -> Item | None:
        """The row as committed now, even if the session holds an older copy of it."""
        stmt = self.scoped().where(Item.id == item_id).execution_options(populate_existing=True)
        row: Item | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def orderable(self, item_ids: Collection[str]) -> list[OrderableItem]:
        """The tenant's live items among ``item_ids`` (prebuilt statement, plain rows)."""
        params = {"orderable_tenant_id": self.tenant_id, "orderable_ids": list(item_ids)}
        rows = (await self.session.execute(_ORDERABLE, params)).all()
        return [OrderableItem(*row) for row in rows]

    async def update_if_version(
        self, item_id: str, expected_version: int, values: Mapping[str, object]
    ) -> Item | None:
        """Optimistic update: None when the item is gone or another write got there first."""
        stmt = self._changing(item_id).where(Item.version == expected_version).values(**values)
        try:
            return await self._write(stmt)
        except IntegrityError as exc:  # the only constraint a valid change can break
            raise SkuConflictError(str(values.get("sku", ""))) from exc

    async def take_stock(self, item_id: str, quantity: int) -> StockLeft | None:
        """Decrement only if enough is left, checked and written in one statement: no
        read-modify-write, so concurrent orders cannot both take the last unit."""
        params: dict[str, object] = {"take_item_id": item_id, "take_tenant_id": self.tenant_id}
        params |= {"take_quantity": quantity, "take_now": utcnow()}
        result = await self.session.execute(_TAKE_STOCK, params)
        row = result.one_or_none()
        if row is None:
            return None
        left = StockLeft(stock=row.stock, version=row.version)
        self._refresh_loaded(item_id, left)
        return left

    def _refresh_loaded(self, item_id: str, left: StockLeft) -> None:
        """A copy of the item this session already holds takes the new values (what
        ``populate_existing`` does for the ORM statements below)."""
        loaded = self.session.sync_session.identity_map.get(identity_key(Item, item_id))
        if loaded is not None and object_session(loaded) is self.session.sync_session:
            set_committed_value(loaded, "stock", left.stock)
            set_committed_value(loaded, "version", left.version)

    async def return_stock(self, item_id: str, quantity: int) -> Item | None:
        stmt = self._changing(item_id).values(stock=Item.stock + quantity)
        return await self._write(stmt)

    def _changing(self, item_id: str) -> Update:
        return update(Item).where(Item.id == item_id, Item.tenant_id == self.tenant_id)

    async def _write(self, stmt: Update) -> Item | None:
        stmt = stmt.values(version=Item.version + 1, updated_at=utcnow()).returning(Item)
        # populate_existing: a copy of the item already in the session (loaded by the
        # caller) takes the new values instead of keeping the stale ones.
        result = await self.session.execute(
            stmt, execution_options={"synchronize_session": False, "populate_existing": True}
        )
        row: Item | None = result.scalar_one_or_none()
        return row


async def count_live_items(session: AsyncSession, tenant_id: str) -> int:
    """The tenant's items that count against its plan: archived ones do not (there is
    no delete, so archiving is how a tenant makes room)."""
    result = await session.execute(
        select(func.count())
        .select_from(_items)
        .where(_items.c.tenant_id == tenant_id, _items.c.archived_at.is_(None))
    )
    return int(result.scalar_one())

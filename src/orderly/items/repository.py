from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Update, or_, update
from sqlalchemy.exc import IntegrityError

from orderly.core.database import utcnow
from orderly.core.repository import TenantRepository
from orderly.items.exceptions import SkuConflictError
from orderly.items.models import Item


@dataclass(frozen=True, slots=True)
class ItemFilters:
    q: str | None = None
    active: bool | None = None
    in_stock: bool | None = None


def _contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ItemRepository(TenantRepository[Item]):
    """Every write that changes an existing item goes through ``_write``: one UPDATE that
    bumps ``version`` and ``updated_at`` and refreshes the session's copy from RETURNING.
    (One place, so a response cache added later has one place to invalidate.)"""

    model = Item

    async def add(self, row: Item) -> Item:
        try:
            return await super().add(row)
        except IntegrityError as exc:  # the unique (tenant_id, sku) constraint is the check
            raise SkuConflictError(row.sku) from exc

    def search(self, filters: ItemFilters) -> Select[Any]:
        stmt = self.scoped()
        if filters.q:
            pattern = _contains(filters.q)
            stmt = stmt.where(
                or_(Item.name.ilike(pattern, escape="\\"), Item.sku.ilike(pattern, escape="\\"))
            )
        if filters.active is not None:
            archived = (
                Item.archived_at.is_(None) if filters.active else Item.archived_at.is_not(None)
            )
            stmt = stmt.where(archived)
        if filters.in_stock is not None:
            stmt = stmt.where(Item.stock > 0 if filters.in_stock else Item.stock == 0)
        return stmt

    async def get_fresh(self, item_id: str) -> Item | None:
        """The row as committed now, even if the session holds an older copy of it."""
        stmt = self.scoped().where(Item.id == item_id).execution_options(populate_existing=True)
        row: Item | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def orderable(self, item_ids: Collection[str]) -> list[Item]:
        stmt = self.scoped().where(Item.id.in_(list(item_ids)), Item.archived_at.is_(None))
        return list((await self.session.execute(stmt)).scalars())

    async def update_if_version(
        self, item_id: str, expected_version: int, values: Mapping[str, object]
    ) -> Item | None:
        """Optimistic update: None when the item is gone or another write got there first."""
        stmt = self._changing(item_id).where(Item.version == expected_version).values(**values)
        try:
            return await self._write(stmt)
        except IntegrityError as exc:  # the only constraint a valid change can break
            raise SkuConflictError(str(values.get("sku", ""))) from exc

    async def take_stock(self, item_id: str, quantity: int) -> Item | None:
        """Decrement only if enough is left, checked and written in one statement: no
        read-modify-write, so concurrent orders cannot both take the last unit."""
        stmt = (
            self._changing(item_id)
            .where(Item.archived_at.is_(None), Item.stock >= quantity)
            .values(stock=Item.stock - quantity)
        )
        return await self._write(stmt)

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

"""The base of every repository of tenant-owned rows.

A ``TenantRepository`` is constructed with the principal's tenant id and adds that
filter to every query it builds, so a route cannot forget it: another tenant's row is
simply not found (404), exactly as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.models import TenantOwned
from orderly.core.pagination import Position

ModelT = TypeVar("ModelT", bound=TenantOwned)


class TenantRepository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def scoped(self, *columns: Any) -> Select[Any]:
        """``SELECT`` of the model (or of some columns) already filtered by tenant."""
        stmt = select(*columns) if columns else select(self.model)
        return stmt.where(self.model.tenant_id == self.tenant_id)

    async def get(self, row_id: str, *options: Any) -> ModelT | None:
        stmt = self.scoped().where(self.model.id == row_id)
        if options:
            stmt = stmt.options(*options)
        row: ModelT | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def add(self, row: ModelT) -> ModelT:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        await self.session.flush()
        return row

    def keyset(self, stmt: Select[Any], after: Position | None, rows: int) -> Select[Any]:
        """``rows`` of ``stmt``, newest first, after ``after``."""
        model = self.model
        if after is not None:
            stmt = stmt.where(
                or_(
                    model.created_at < after.created_at,
                    and_(model.created_at == after.created_at, model.id < after.id),
                )
            )
        return stmt.order_by(model.created_at.desc(), model.id.desc()).limit(rows)

    async def page(self, stmt: Select[Any], after: Position | None, rows: int) -> Sequence[ModelT]:
        """Up to ``rows`` of ``stmt`` after ``after``, newest first (``CursorCodec.page``
        asks for one more than it shows, to know whether a next page exists)."""
        return list((await self.session.execute(self.keyset(stmt, after, rows))).scalars())

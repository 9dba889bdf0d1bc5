from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base, UTCDateTime
from orderly.core.models import TenantOwned, keyset_index
from orderly.core.money import format_minor


class Item(TenantOwned, Base):
    """A catalog entry. Archived rather than deleted: orders keep pointing at it.

    Money is an integer of the currency's minor units (``core.money``): exact on every
    backend, where SQLite has no decimal type. ``version`` grows on every change, stock
    included; it is the optimistic-concurrency token and the ETag.
    """

    __tablename__ = "items"
    __table_args__ = (
        keyset_index("items"),
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price_minor >= 0", name="price_non_negative"),
    )

    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def price(self) -> str:
        """The price as the API shows it: a decimal string with the currency's decimals."""
        return format_minor(self.price_minor, self.currency)

    @property
    def active(self) -> bool:
        return self.archived_at is None

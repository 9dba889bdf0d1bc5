from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orderly.core.database import Base
from orderly.core.models import ID_LENGTH, TenantOwned, keyset_index
from orderly.orders.states import OrderStatus


class Order(TenantOwned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        keyset_index("orders"),
        # The expiry job's scan: unpaid orders placed before a cutoff, every tenant.
        Index("ix_orders_status_created_at", "status", "created_at"),
        CheckConstraint("total_minor >= 0", name="total_non_negative"),
    )

    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OrderStatus.PENDING,
    )
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # Who placed it: a user, or an integration's API key (then user_id is null).
    user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    api_key_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    # lazy="raise": touching lines without loading them eagerly is a bug, not a query.
    lines: Mapped[list[OrderLine]] = relationship(
        lazy="raise", order_by="OrderLine.position", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    """A line with the item's sku, name and price as they were when the order was
    placed: later catalog changes never rewrite an order."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)

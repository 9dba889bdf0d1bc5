"""unpaid orders index

The expiry job looks every minute, across tenants, for orders still unpaid (pending or
payment_failed) that were placed before a cutoff: (status, created_at) answers that
without reading the whole table. The status column needs no change for the new
``expired`` value (a VARCHAR(20) without a CHECK constraint).

Revision ID: 2896743c9e1a
Revises: fa29d46d478d
Create Date: 2026-12-07 19:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2896743c9e1a"
down_revision: str | None = "fa29d46d478d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_created_at")

"""numbered events: seq, public id and publication time; per-tenant event counters

Outbox rows already written stay unpublished (``seq IS NULL``): the relay numbers them
on its first pass, in id order, like any other.

Revision ID: fa29d46d478d
Revises: cd369186df19
Create Date: 2026-12-07 19:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderly.core.database

revision: str = "fa29d46d478d"
down_revision: str | None = "cd369186df19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_counters",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_event_counters_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_event_counters")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "published_at", orderly.core.database.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_unique_constraint(batch_op.f("uq_events_public_id"), ["public_id"])
        batch_op.create_index("ix_events_tenant_id_seq", ["tenant_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_events_unpublished",
            ["id"],
            unique=False,
            postgresql_where=sa.text("seq IS NULL"),
            sqlite_where=sa.text("seq IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_unpublished")
        batch_op.drop_index("ix_events_tenant_id_seq")
        batch_op.drop_constraint(batch_op.f("uq_events_public_id"), type_="unique")
        batch_op.drop_column("published_at")
        batch_op.drop_column("public_id")
        batch_op.drop_column("seq")

    op.drop_table("event_counters")

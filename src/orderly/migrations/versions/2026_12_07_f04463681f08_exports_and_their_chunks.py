"""exports and their chunks

An export (orders as CSV, written by a job) and its file, stored in ~64 KiB chunks so
that any API process can serve it; both kept 24 h.

Revision ID: f04463681f08
Revises: 4d1f7a9c2e3b
Create Date: 2026-12-07 22:38:31.689665
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderly.core.database

revision: str = "f04463681f08"
down_revision: str | None = "4d1f7a9c2e3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("status_filter", sa.String(length=20), nullable=True),
        sa.Column(
            "created_after", orderly.core.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_before", orderly.core.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("requested_by", sa.String(length=32), nullable=True),
        sa.Column("run_token", sa.String(length=32), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", orderly.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", orderly.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderly.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_exports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index("ix_exports_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_exports_status_updated_at", ["status", "updated_at"], unique=False
        )
        batch_op.create_index(
            "ix_exports_tenant_keyset", ["tenant_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "export_chunks",
        sa.Column("export_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name=op.f("fk_export_chunks_export_id_exports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "seq", name=op.f("pk_export_chunks")),
    )


def downgrade() -> None:
    op.drop_table("export_chunks")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("ix_exports_tenant_keyset")
        batch_op.drop_index("ix_exports_status_updated_at")
        batch_op.drop_index("ix_exports_created_at")

    op.drop_table("exports")

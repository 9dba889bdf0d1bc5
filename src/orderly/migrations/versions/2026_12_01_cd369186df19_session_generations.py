"""session generations

Every user starts at generation 0, and so do the refresh tokens already issued: they stay
valid. Access tokens issued before this release carry no generation and are refused
(401): clients refresh them once (refresh tokens survive).

Revision ID: cd369186df19
Revises: 276be73298f1
Create Date: 2026-12-01 08:18:38.071127
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderly.core.database

revision: str = "cd369186df19"
down_revision: str | None = "276be73298f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "sessions_ended_at",
                orderly.core.database.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("sessions_ended_at")
        batch_op.drop_column("session_generation")

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_column("session_generation")

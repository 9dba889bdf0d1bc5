"""baseline

Revision ID: 90077f0a34b0
Revises:
Create Date: 2026-11-23 18:52:33.250205
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderly.core.database

revision: str = "90077f0a34b0"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Imports every domain's models so that ``Base.metadata`` (and Alembic) sees them all."""

from orderly.core.database import Base

__all__ = ["Base"]

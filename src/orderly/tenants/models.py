from __future__ import annotations

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from orderly.core.database import Base
from orderly.core.identity import Plan
from orderly.core.models import ID_LENGTH, Timestamped


class Tenant(Timestamped, Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[Plan] = mapped_column(
        Enum(Plan, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Plan.FREE,
    )

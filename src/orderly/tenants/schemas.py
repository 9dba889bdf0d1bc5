from __future__ import annotations

from datetime import datetime

from orderly.core.identity import Plan
from orderly.core.schemas import ReadSchema


class TenantRead(ReadSchema):
    id: str
    slug: str
    name: str
    plan: Plan
    created_at: datetime

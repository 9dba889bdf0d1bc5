from __future__ import annotations

from typing import Annotated

from orderly.core.identity import Plan
from orderly.core.schemas import ReadSchema, ShownId, ShownTimestamp, shown_text


class TenantRead(ReadSchema):
    id: ShownId
    slug: Annotated[str, shown_text(63)]
    name: Annotated[str, shown_text(200)]
    plan: Plan
    created_at: ShownTimestamp

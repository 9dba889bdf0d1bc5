from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from orderly.core.identity import Plan
from orderly.core.schemas import (
    InputSchema,
    ReadSchema,
    ShownId,
    ShownTimestamp,
    shown_integer,
    shown_text,
)


class TenantRead(ReadSchema):
    id: ShownId
    slug: Annotated[str, shown_text(63)]
    name: Annotated[str, shown_text(200)]
    plan: Plan
    created_at: ShownTimestamp


Limit = Annotated[int, shown_integer(0, 2**63 - 1)] | None
Usage = Annotated[int, shown_integer(0, 2**63 - 1)]


class TenantLimits(BaseModel):
    """The plan's limits; null is unlimited."""

    requests_per_minute: Limit
    items: Limit
    api_keys: Limit
    webhook_endpoints: Limit
    exports: bool
    graphql_mutations: bool


class TenantUsage(BaseModel):
    """What the tenant holds of each counted limit now."""

    items: Usage
    api_keys: Usage
    webhook_endpoints: Usage


class TenantDetails(TenantRead):
    limits: TenantLimits
    usage: TenantUsage


class TenantUpdate(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Outfitters"])


class PlanChange(InputSchema):
    plan: Plan


class PlanChanged(BaseModel):
    """The ``tenant.plan_changed`` event's data."""

    id: ShownId
    plan: Plan
    previous_plan: Plan

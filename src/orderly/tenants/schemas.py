from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from orderly.core.identity import Plan
from orderly.core.schemas import InputSchema, ReadSchema


class TenantRead(ReadSchema):
    id: str
    slug: str
    name: str
    plan: Plan
    created_at: datetime


class TenantLimits(BaseModel):
    """The plan's limits; null is unlimited."""

    requests_per_minute: int | None
    items: int | None
    api_keys: int | None
    webhook_endpoints: int | None
    exports: bool
    graphql_mutations: bool


class TenantUsage(BaseModel):
    """What the tenant holds of each counted limit now."""

    items: int
    api_keys: int
    webhook_endpoints: int


class TenantDetails(TenantRead):
    limits: TenantLimits
    usage: TenantUsage


class TenantUpdate(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Outfitters"])


class PlanChange(InputSchema):
    plan: Plan


class PlanChanged(BaseModel):
    """The ``tenant.plan_changed`` event's data."""

    id: str
    plan: Plan
    previous_plan: Plan

"""The caller's tenant: its plan, limits and usage."""

from __future__ import annotations

from fastapi import APIRouter

from orderly.core.access import ROLE_GUARD_ERRORS
from orderly.core.responses import problems
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.tenants.dependencies import TenantOwnerService, TenantReadService
from orderly.tenants.exceptions import TenantNotFoundError
from orderly.tenants.schemas import PlanChange, TenantDetails, TenantUpdate

router = APIRouter(prefix="/tenant", tags=["tenant"])


@router.get(
    "",
    summary="The caller's tenant, with its plan's limits and its usage",
    description="`limits` holds null for an unlimited count.",
    responses=problems(*ROLE_GUARD_ERRORS, TenantNotFoundError),
)
async def get_tenant(tenants: TenantReadService) -> TenantDetails:
    return await tenants.details()


@router.patch(
    "",
    summary="Rename the tenant (owner)",
    responses=problems(*ROLE_GUARD_ERRORS, TenantNotFoundError, *IDEMPOTENCY_ERRORS),
    dependencies=[IDEMPOTENT],
)
async def update_tenant(body: TenantUpdate, tenants: TenantOwnerService) -> TenantDetails:
    return await tenants.rename(body)


@router.put(
    "/plan",
    summary="Move the tenant to another plan (owner; billing is out of scope)",
    description="Records a `tenant.plan_changed` event when the plan changes. A lower "
    "plan is accepted even below current usage: nothing is removed, further creations "
    "are refused (402 `PLAN_LIMIT_REACHED`) until usage fits.",
    responses=problems(*ROLE_GUARD_ERRORS, TenantNotFoundError),
)
async def change_plan(body: PlanChange, tenants: TenantOwnerService) -> TenantDetails:
    return await tenants.change_plan(body)

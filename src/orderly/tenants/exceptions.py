"""Errors of tenants and their plans.

PaymentRequiredError (402, core.errors)
├── PlanLimitReachedError (PLAN_LIMIT_REACHED: plan, limit, max)
└── PlanUpgradeRequiredError (PLAN_UPGRADE_REQUIRED: plan, feature)
NotFoundError (404, core.errors)
└── TenantNotFoundError (TENANT_NOT_FOUND)
"""

from __future__ import annotations

from orderly.core.errors import NotFoundError, PaymentRequiredError


class PlanLimitReachedError(PaymentRequiredError):
    code = "PLAN_LIMIT_REACHED"
    default_detail = "The tenant's plan allows no more of these."

    def __init__(self, plan: str = "free", limit: str = "items", maximum: int = 0) -> None:
        super().__init__(
            f"The {plan} plan allows at most {maximum} {limit.replace('_', ' ')}; "
            "remove some or upgrade the plan.",
            extensions={"plan": plan, "limit": limit, "max": maximum},
        )


class PlanUpgradeRequiredError(PaymentRequiredError):
    code = "PLAN_UPGRADE_REQUIRED"
    default_detail = "This feature is not included in the tenant's plan."

    def __init__(self, plan: str = "free", feature: str = "exports") -> None:
        super().__init__(
            f"The {plan} plan does not include {feature.replace('_', ' ')}; upgrade the plan.",
            extensions={"plan": plan, "feature": feature},
        )


class TenantNotFoundError(NotFoundError):
    code = "TENANT_NOT_FOUND"
    resource = "Tenant"

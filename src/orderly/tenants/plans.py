"""The plans' limits, in one place (SPEC "Plans and traffic protection").

    | limit                                   | free | pro    | enterprise |
    | requests per minute per principal       | 120  | 1,200  | 6,000      |
    | items                                   | 100  | 10,000 | unlimited  |
    | API keys                                | 2    | 20     | 100        |
    | webhook endpoints                       | 1    | 10     | 50         |
    | exports, GraphQL mutations              | no   | yes    | yes        |

``APP_PLAN_LIMITS`` (JSON) is merged over these defaults, plan by plan and limit by
limit: ``{"enterprise": {"requests_per_minute": 100000000}}``. ``null`` (None) is
unlimited. Unknown plans, limits or value types stop the process at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Literal, get_args

from orderly.core.container import Key
from orderly.core.identity import Plan
from orderly.core.ratelimit import Quota

CountLimit = Literal["items", "api_keys", "webhook_endpoints"]
Feature = Literal["exports", "graphql_mutations"]
COUNT_LIMITS: tuple[CountLimit, ...] = get_args(CountLimit)
FEATURES: tuple[Feature, ...] = get_args(Feature)
PRINCIPAL_POLICY = "principal"  # the policy name in the RateLimit headers


@dataclass(frozen=True, slots=True)
class PlanLimits:
    requests_per_minute: int | None
    items: int | None
    api_keys: int | None
    webhook_endpoints: int | None
    exports: bool
    graphql_mutations: bool

    def maximum(self, limit: CountLimit) -> int | None:
        value: int | None = getattr(self, limit)
        return value

    def allows(self, feature: Feature) -> bool:
        allowed: bool = getattr(self, feature)
        return allowed


DEFAULT_LIMITS: Mapping[Plan, PlanLimits] = {
    Plan.FREE: PlanLimits(120, 100, 2, 1, exports=False, graphql_mutations=False),
    Plan.PRO: PlanLimits(1_200, 10_000, 20, 10, exports=True, graphql_mutations=True),
    Plan.ENTERPRISE: PlanLimits(6_000, None, 100, 50, exports=True, graphql_mutations=True),
}

Overrides = Mapping[str, Mapping[str, int | bool | None]]
_FEATURE_NAMES = frozenset(FEATURES)
_LIMIT_NAMES = frozenset(f.name for f in fields(PlanLimits)) - _FEATURE_NAMES


def _checked(plan: str, name: str, value: object) -> int | bool | None:
    where = f"APP_PLAN_LIMITS[{plan!r}][{name!r}]"
    if name in _FEATURE_NAMES:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return value
    if name not in _LIMIT_NAMES:
        known = ", ".join(sorted(_LIMIT_NAMES | _FEATURE_NAMES))
        raise ValueError(f"{where}: unknown limit (known: {known})")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} must be a whole number >= 0, or null for unlimited")
    return value


class PlanTable:
    """Every plan's limits and its per-principal quota, built once at start-up."""

    def __init__(self, overrides: Overrides | None = None) -> None:
        limits = dict(DEFAULT_LIMITS)
        for plan_name, values in (overrides or {}).items():
            try:
                plan = Plan(plan_name)
            except ValueError:
                known = ", ".join(p.value for p in Plan)
                raise ValueError(
                    f"APP_PLAN_LIMITS: unknown plan {plan_name!r} (known: {known})"
                ) from None
            checked = {name: _checked(plan_name, name, v) for name, v in values.items()}
            limits[plan] = replace(limits[plan], **checked)  # type: ignore[arg-type]
        self._limits = limits
        self._quotas = {
            plan: None if rpm is None else Quota(PRINCIPAL_POLICY, rpm)
            for plan, rpm in ((p, lim.requests_per_minute) for p, lim in limits.items())
        }

    def limits(self, plan: Plan) -> PlanLimits:
        return self._limits[plan]

    def quota(self, plan: Plan) -> Quota | None:
        """Requests per minute for one principal of ``plan``; None: unlimited."""
        return self._quotas[plan]


PLAN_TABLE: Key[PlanTable] = Key("tenants.plan_table")

"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from orderly.core.dependencies import part
from orderly.core.errors import ServiceUnavailableError
from orderly.core.problems import PROBLEM_MEDIA_TYPE
from orderly.health.service import READINESS, ReadinessCheck

router = APIRouter(prefix="/health", tags=["health"])

Dependencies = Annotated[ReadinessCheck, part(READINESS)]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, Literal["ok"]]


@router.get("/live", summary="The process is up", response_model=Liveness)
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    summary="The database (and Redis, when configured) answer",
    responses={
        503: {
            "description": "A dependency does not answer; `detail` names it.",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
    },
)
async def ready(dependencies: Dependencies) -> Readiness:
    failing = await dependencies.failing()
    if failing:
        raise ServiceUnavailableError(
            f"Not ready: {', '.join(failing)} did not answer.",
            code="DEPENDENCY_UNAVAILABLE",
            headers={"Retry-After": "5"},
        )
    return Readiness(checks=dict.fromkeys(dependencies.dependencies, "ok"))

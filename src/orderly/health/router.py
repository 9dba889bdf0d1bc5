"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from orderly.core.dependencies import AppResources
from orderly.core.responses import problems
from orderly.health.exceptions import DependencyUnavailableError
from orderly.health.service import check_dependencies

router = APIRouter(prefix="/health", tags=["health"])


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
    responses=problems(DependencyUnavailableError),
)
async def ready(resources: AppResources) -> Readiness:
    failing = await check_dependencies(resources)
    if failing:
        raise DependencyUnavailableError(failing)
    checks: dict[str, Literal["ok"]] = {"database": "ok"}
    if resources.redis is not None:
        checks["redis"] = "ok"
    return Readiness(checks=checks)

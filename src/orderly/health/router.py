"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from orderly.core.dependencies import part
from orderly.core.responses import problems
from orderly.core.schemas import shown_text
from orderly.health.exceptions import DependencyUnavailableError
from orderly.health.service import READINESS, ReadinessCheck

router = APIRouter(prefix="/health", tags=["health"])

Dependencies = Annotated[ReadinessCheck, part(READINESS)]


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    # One entry per dependency: the database, and Redis when configured.
    checks: dict[Annotated[str, shown_text(32)], Literal["ok"]] = Field(
        json_schema_extra={"maxProperties": 2}
    )


@router.get("/live", summary="The process is up", response_model=Liveness)
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    summary="The database (and Redis, when configured) answer",
    responses=problems(DependencyUnavailableError),
)
async def ready(dependencies: Dependencies) -> Readiness:
    failing = await dependencies.failing()
    if failing:
        raise DependencyUnavailableError(failing)
    return Readiness(checks=dict.fromkeys(dependencies.dependencies, "ok"))

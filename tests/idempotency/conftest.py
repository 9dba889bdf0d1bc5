"""A test-only router behind ``idempotency_guard``, whose handlers count their runs, and
a principal taken from test headers (tenant and user) instead of real credentials."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from pydantic import BaseModel

from orderly.core.access import get_principal
from orderly.core.errors import BusinessRuleError, ConflictError, ExternalServiceError
from orderly.core.identity import Principal, Role
from orderly.idempotency.dependencies import idempotency_guard

BASE = "/test/idempotency"


@dataclass
class Calls:
    count: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    # A handler called with ``hold`` runs until the test sets this: overlap by design,
    # not by a delay that a slow machine might outlast.
    release: asyncio.Event = field(default_factory=asyncio.Event)


class ThingIn(BaseModel):
    name: str
    delay: float = 0.0
    hold: bool = False
    padding: int = 0


class ThingOut(BaseModel):
    id: int
    name: str
    padding: str


def principal_from_headers(request: Request) -> Principal:
    return Principal(
        tenant_id=request.headers.get("x-test-tenant", "ten_a"),
        user_id=request.headers.get("x-test-user", "usr_a"),
        role=Role.OWNER,
    )


def _things(router: APIRouter, calls: Calls) -> None:
    @router.post("/things", status_code=201)
    async def create_thing(thing: ThingIn, response: Response) -> ThingOut:
        calls.count += 1
        calls.started.set()
        await asyncio.sleep(thing.delay)
        if thing.hold:
            await calls.release.wait()
        response.headers["Location"] = f"{BASE}/things/{calls.count}"
        return ThingOut(id=calls.count, name=thing.name, padding="x" * thing.padding)

    @router.patch("/things/{thing_id}")
    async def rename_thing(thing_id: int, thing: ThingIn) -> ThingOut:
        calls.count += 1
        return ThingOut(id=thing_id, name=thing.name, padding="")

    @router.get("/things")
    async def list_things() -> dict[str, int]:
        calls.count += 1
        return {"count": calls.count}

    @router.post("/form", status_code=201)
    async def submit_form(name: Annotated[str, Form()]) -> dict[str, int | str]:
        calls.count += 1
        return {"id": calls.count, "name": name}


def _failures(router: APIRouter, calls: Calls) -> None:
    @router.post("/conflict")
    async def conflict() -> None:
        calls.count += 1
        raise ConflictError

    @router.post("/rejected")
    async def rejected() -> None:
        calls.count += 1
        raise BusinessRuleError

    @router.post("/crash")
    async def crash() -> None:
        calls.count += 1
        raise RuntimeError("boom")

    @router.post("/upstream")
    async def upstream() -> None:
        calls.count += 1
        raise ExternalServiceError


def build_router(calls: Calls) -> APIRouter:
    router = APIRouter(prefix=BASE, dependencies=[Depends(idempotency_guard)])
    _things(router, calls)
    _failures(router, calls)
    return router


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def key() -> str:
    """Unique per test: in Redis mode, records outlive a test within the session."""
    return f"key-{uuid.uuid4().hex}"


@pytest.fixture
def api(app: FastAPI, client: httpx.AsyncClient, calls: Calls) -> httpx.AsyncClient:
    app.include_router(build_router(calls))
    app.dependency_overrides[get_principal] = principal_from_headers
    return client


def with_key(key: str, *, tenant: str = "ten_a", user: str = "usr_a") -> dict[str, str]:
    return {"Idempotency-Key": key, "X-Test-Tenant": tenant, "X-Test-User": user}

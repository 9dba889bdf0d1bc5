"""One transaction per request, committed before the response is sent."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.dependencies import DbSession


def _router() -> APIRouter:
    router = APIRouter(prefix="/_tx")

    @router.post("/write", status_code=201)
    async def write(session: DbSession) -> dict[str, str]:
        await session.execute(text("CREATE TABLE IF NOT EXISTS _probe (v INTEGER)"))
        await session.execute(text("INSERT INTO _probe (v) VALUES (1)"))
        return {"status": "written"}

    return router


async def test_a_failing_commit_is_an_error_response_not_a_2xx(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.include_router(_router())

    async def broken_commit(self: AsyncSession) -> None:
        raise ConnectionResetError("database went away during COMMIT")

    monkeypatch.setattr(AsyncSession, "commit", broken_commit)
    response = await client.post("/_tx/write")
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "COMMIT" not in response.text

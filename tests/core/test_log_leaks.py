"""The leaks found in the logs, provoked for real: a database error during register or
API-key creation, SQL echo, DEBUG logging, an error raised with a credential in its
locals, validation errors that quote their input, and a deep recursion."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from orderly.core.database import DATABASE
from orderly.main import create_app
from orderly.users.schemas import UserCreate
from tests.conftest import make_settings
from tests.support.api import PASSWORD, register, unique_email
from tests.support.database import empty_all_tables
from tests.support.parts import part
from tests.support.services import Backend

DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
REFUSED_NAME = "Refused By Trigger"
LOCAL_CREDENTIAL = "Token opaque-credential-in-a-local-0123456789"
INPUT_MARKER = "leaked-input-value-0123456789"  # pydantic may cut its middle out


@asynccontextmanager
async def logging_client(
    backend: Backend, router: APIRouter | None = None, **overrides: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(backend, **overrides))
    if router is not None:
        app.include_router(router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
        await empty_all_tables(part(app, DATABASE).engine)


@asynccontextmanager
async def refusing_inserts(engine: AsyncEngine, table: str, column: str) -> AsyncIterator[None]:
    """A real database error on INSERT into ``table`` when ``column`` is REFUSED_NAME:
    an internal error raised by a trigger on PostgreSQL, a trigger that fails (no such
    table, or RAISE) on SQLite."""
    is_postgres = engine.dialect.name == "postgresql"
    if is_postgres:
        statements = [
            "CREATE FUNCTION orderly_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by a test trigger' USING ERRCODE = 'XX000'; "
            "END $$",
            f"CREATE TRIGGER orderly_test_refuse BEFORE INSERT ON {table} FOR EACH ROW "
            f"WHEN (NEW.{column} = '{REFUSED_NAME}') EXECUTE FUNCTION orderly_test_refuse()",
        ]
        cleanup = [
            f"DROP TRIGGER orderly_test_refuse ON {table}",
            "DROP FUNCTION orderly_test_refuse()",
        ]
    else:
        # users: an IntegrityError there is read as a lost sign-up race; fail otherwise.
        body = (
            "INSERT INTO no_such_table VALUES (1)"
            if table == "users"
            else ("SELECT RAISE(ABORT, 'refused by a test trigger')")
        )
        statements = [
            f"CREATE TRIGGER orderly_test_refuse BEFORE INSERT ON {table} "
            f"WHEN NEW.{column} = '{REFUSED_NAME}' BEGIN {body}; END"
        ]
        cleanup = ["DROP TRIGGER orderly_test_refuse"]
    async with engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        async with engine.begin() as conn:
            for statement in cleanup:
                await conn.exec_driver_sql(statement)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


async def test_a_database_error_during_register_logs_no_hash_and_no_input(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("refused")
    async with (
        logging_client(backend, log_level="INFO", log_format="json") as (app, client),
        refusing_inserts(part(app, DATABASE).engine, "users", "full_name"),
    ):
        capsys.readouterr()
        response = await client.post(
            "/api/v1/auth/register",
            json={
                "tenant_name": "Refused",
                "email": email,
                "password": PASSWORD,
                "full_name": REFUSED_NAME,
            },
        )
    assert response.status_code in (500, 503), response.text
    output = capsys.readouterr().out
    events = {line["event"] for line in json_lines(output)}
    assert events & {"database_error", "database_unavailable"}, output
    assert "INSERT INTO users" in output  # the statement is there, its values are not
    for value in ("$argon2", email, REFUSED_NAME, PASSWORD, "[parameters:"):
        assert value not in output


async def test_a_database_error_while_creating_an_api_key_logs_no_key_hash(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    async with logging_client(backend, log_level="INFO", log_format="json") as (app, client):
        owner = await register(client)
        async with refusing_inserts(part(app, DATABASE).engine, "api_keys", "name"):
            capsys.readouterr()
            response = await client.post(
                "/api/v1/api-keys",
                headers=owner.headers,
                json={"name": REFUSED_NAME, "scopes": ["read:items"]},
            )
    assert response.status_code == 500, response.text
    output = capsys.readouterr().out
    errors = [line for line in json_lines(output) if line["event"] == "database_error"]
    assert errors, output
    assert "INSERT INTO api_keys" in errors[0]["exception"]
    assert "refused by a test trigger" in errors[0]["exception"]
    assert not DIGEST.search(output), output
    assert REFUSED_NAME not in output
    assert "[parameters:" not in output


async def test_sql_echo_goes_through_the_app_log_without_parameters(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    async with logging_client(backend, log_level="INFO", log_format="json", db_echo=True) as (
        _,
        client,
    ):
        owner = await register(client)
    output = capsys.readouterr().out
    lines = output.splitlines()
    assert all(line.startswith("{") for line in lines), output  # every line ours, JSON
    echoed = [line for line in json_lines(output) if line.get("logger", "").startswith("sqlalc")]
    assert any("INSERT INTO users" in line["event"] for line in echoed), output
    for value in ("$argon2", owner.email, "Olive Owner"):
        assert value not in output


async def test_debug_logging_shows_no_statement_parameters(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """aiosqlite logs every statement with its parameters at DEBUG."""
    async with logging_client(backend, log_level="DEBUG", log_format="console") as (_, client):
        owner = await register(client)
    output = capsys.readouterr().out
    assert "[debug" in output  # DEBUG was on
    for value in ("$argon2", owner.email, "Olive Owner"):
        assert value not in output


def _failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/_explode")
    async def explode(request: Request) -> None:
        authorization = request.headers["authorization"]  # a local holding a credential
        raise RuntimeError(f"the handler failed ({len(authorization)} characters)")

    @router.get("/_invalid_input")
    async def invalid_input() -> None:
        # Missing fields: pydantic quotes the whole input, password included.
        UserCreate.model_validate({"email": "x@example.com", "password": INPUT_MARKER})

    @router.get("/_invalid_response", response_model=UserCreate)
    async def invalid_response() -> dict[str, str]:
        return {"email": "x@example.com", "password": INPUT_MARKER}

    @router.post("/_recurse")
    async def recurse(request: Request) -> None:
        nested: dict[str, Any] = {}
        inner = nested
        for _ in range(300):  # a deep payload, as a deep-JSON request body is
            inner["next"] = {}
            inner = inner["next"]
        _ping(nested, 0)

    return router


def _ping(payload: dict[str, Any], depth: int) -> None:
    _pong(payload, depth + 1)


def _pong(payload: dict[str, Any], depth: int) -> None:
    _ping(payload, depth + 1)


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_an_error_is_logged_without_the_locals_of_its_frames(
    backend: Backend, log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with logging_client(backend, _failing_router(), log_format=log_format) as (_, client):
        response = await client.get("/_explode", headers={"Authorization": LOCAL_CREDENTIAL})
    assert response.status_code == 500
    output = capsys.readouterr().out
    assert "RuntimeError: the handler failed" in output
    assert "opaque-credential" not in output
    assert "authorization =" not in output.lower()


@pytest.mark.parametrize("route", ["/_invalid_input", "/_invalid_response"])
async def test_a_validation_error_is_logged_without_its_input(
    backend: Backend, route: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with logging_client(backend, _failing_router(), log_format="json") as (_, client):
        response = await client.get(route)
    assert response.status_code == 500
    output = capsys.readouterr().out
    assert "ValidationError" in output
    assert "full_name" in output  # what failed is told...
    assert INPUT_MARKER[:12] not in output  # ...not with what
    assert INPUT_MARKER[-12:] not in output


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_a_deep_recursion_is_logged_quickly_and_bounded(
    backend: Backend, log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with logging_client(backend, _failing_router(), log_format=log_format) as (_, client):
        started = time.perf_counter()
        response = await client.post("/_recurse")
        elapsed = time.perf_counter() - started
    assert response.status_code == 500
    output = capsys.readouterr().out
    assert "RecursionError" in output
    assert "frames omitted" in output
    assert len(output) < 24_000, len(output)
    assert elapsed < 2.0, elapsed

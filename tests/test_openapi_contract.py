"""The OpenAPI document keeps the rules outside judges check (SPEC "Errors"), for every
route, including the ones added after these tests were written: errors as
problem+json, bounded inputs, security where credentials are required (and only
there), 422/413/500 where they can happen, RateLimit headers where 429 can."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import SecretStr

from orderly.config import Settings
from orderly.core.errors import RateLimitedError
from orderly.core.responses import declare
from orderly.main import create_app
from tests.conftest import TEST_SECRET
from tests.support.contract import (
    Document,
    broken_links,
    errors_not_problems,
    missing_statuses,
    operations,
    request_id_missing,
    security_of,
    unbounded_inputs,
    unbounded_outputs,
)


async def document_of(client: httpx.AsyncClient) -> Document:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: Document = response.json()
    return document


async def test_every_error_response_is_documented_as_problem_json(
    client: httpx.AsyncClient,
) -> None:
    document = await document_of(client)
    assert errors_not_problems(document) == []
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


async def test_every_request_field_is_bounded(client: httpx.AsyncClient) -> None:
    assert unbounded_inputs(await document_of(client)) == []


async def test_every_response_field_is_bounded(client: httpx.AsyncClient) -> None:
    assert unbounded_outputs(await document_of(client)) == []


async def test_input_answers_422_a_body_413_everything_500_and_a_429_its_headers(
    client: httpx.AsyncClient,
) -> None:
    document = await document_of(client)
    assert missing_statuses(document) == []
    assert request_id_missing(document) == []


async def test_links_lead_from_each_create_to_its_member_operations(
    client: httpx.AsyncClient,
) -> None:
    document = await document_of(client)
    assert broken_links(document) == []
    links = document["paths"]["/api/v1/items"]["post"]["responses"]["201"]["links"]
    member = document["paths"]["/api/v1/items/{item_id}"]
    for method in ("get", "patch", "delete"):
        link = links[member[method]["operationId"]]
        assert link["parameters"] == {"item_id": "$response.body#/id"}
    # An item created can be ordered: the order's body names it.
    order = links[document["paths"]["/api/v1/orders"]["post"]["operationId"]]
    assert order["requestBody"]["lines"][0]["item_id"] == "$response.body#/id"
    assert len(links) == 4


def _filled(path: str, parameters: list[dict[str, Any]]) -> str:
    """``path`` with each path parameter replaced by a value of the documented shape."""
    for parameter in parameters:
        if parameter["in"] != "path":
            continue
        pattern = parameter["schema"].get("pattern", "")
        prefix = re.match(r"^\^([a-z]+)_", pattern)
        value = f"{prefix[1]}_{'0' * 24}" if prefix else "x"
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


async def test_security_is_documented_exactly_where_credentials_are_required(
    client: httpx.AsyncClient,
) -> None:
    """Asked without credentials, an operation answers 401 if and only if the document
    names security schemes for it (public ones say so with ``[{}]``)."""
    document = await document_of(client)
    protected = 0
    for name, operation in operations(document):
        method, path = name.split(" ", 1)
        url = _filled(path, operation.get("parameters", []))
        body: dict[str, str] | None = {} if "requestBody" in operation else None
        response = await client.request(method, url, json=body)
        schemes = security_of(document, operation)
        assert (response.status_code == 401) == (schemes is not None), (name, response.text)
        protected += schemes is not None
    assert protected > 10


def _app_with(router: APIRouter, tmp_path: Path) -> FastAPI:
    settings = Settings(
        _env_file=None,
        environment="test",
        secret_key=SecretStr(TEST_SECRET),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
    )
    app = create_app(settings)
    app.include_router(router)
    return app


def test_a_route_whose_dependency_can_rate_limit_documents_429_and_ratelimit_headers(
    tmp_path: Path,
) -> None:
    async def limiter() -> None:
        """Stands in for a rate-limiting dependency."""

    declare(limiter, RateLimitedError)
    router = APIRouter(dependencies=[Depends(limiter)])

    @router.get("/limited")
    async def limited() -> dict[str, str]:
        return {}

    document = _app_with(router, tmp_path).openapi()
    responses = document["paths"]["/limited"]["get"]["responses"]
    assert responses["429"]["content"]["application/problem+json"]["examples"]["RATE_LIMITED"]
    assert "Retry-After" in responses["429"]["headers"]
    assert {"RateLimit", "RateLimit-Policy"} <= set(responses["200"]["headers"])
    assert missing_statuses(document) == []


def test_the_rules_catch_a_route_that_breaks_them(tmp_path: Path) -> None:
    """The checks above are not vacuous: a careless new route fails each of them."""
    router = APIRouter()

    @router.post(
        "/careless",
        responses={418: {"description": "Teapot", "content": {"application/json": {}}}},
    )
    async def careless(
        q: Annotated[str, Query()], tags: Annotated[list[str], Query()], n: int
    ) -> dict[str, str]:
        return {"q": q}

    document = _app_with(router, tmp_path).openapi()
    assert errors_not_problems(document) == ["POST /careless 418: ['application/json']"]
    assert sorted(unbounded_inputs(document)) == [
        "POST /careless query n: integer without minimum, maximum, format int32/int64",
        "POST /careless query q: string without maxLength",
        "POST /careless query tags.items: string without maxLength",
        "POST /careless query tags: array without maxItems",
    ]
    del document["paths"]["/careless"]["post"]["responses"]["422"]
    del document["paths"]["/careless"]["post"]["responses"]["500"]
    assert missing_statuses(document) == [
        "POST /careless: input but no 422",
        "POST /careless: no 500",
    ]

"""Every error is problem+json, per SPEC "Errors"."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field

from orderly.core.errors import ConflictError, NotFoundError, ServiceUnavailableError
from orderly.core.problems import PROBLEM_MEDIA_TYPE


class OrderNotFound(NotFoundError):
    code = "ORDER_NOT_FOUND"
    resource = "Order"


class Line(BaseModel):
    quantity: int = Field(ge=1, le=100)


class Body(BaseModel):
    lines: list[Line]


def _probe_router() -> APIRouter:
    router = APIRouter(prefix="/_probe")

    @router.get("/missing/{order_id}")
    async def missing(order_id: str) -> None:
        raise OrderNotFound(order_id)

    @router.get("/conflict")
    async def conflict() -> None:
        raise ConflictError("Already there", code="SKU_CONFLICT")

    @router.get("/unavailable")
    async def unavailable() -> None:
        raise ServiceUnavailableError(headers={"Retry-After": "7"})

    @router.get("/http")
    async def http_error() -> None:
        raise HTTPException(status_code=418, detail="short and stout")

    @router.post("/validate")
    async def validate(body: Body) -> Body:
        return body

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals at /srv/app.py: SELECT password FROM users")

    return router


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, object] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["code"] == code
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/definitely/not/here")
    body = _assert_problem(response, 404, "NOT_FOUND")
    assert body["title"] == "Not Found"
    assert "errors" not in body


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health/live")
    _assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_domain_not_found_names_the_resource(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.include_router(_probe_router())
    response = await client.get("/_probe/missing/ord_123")
    body = _assert_problem(response, 404, "ORDER_NOT_FOUND")
    assert body["detail"] == "Order 'ord_123' was not found"


async def test_domain_error_keeps_its_code_and_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.include_router(_probe_router())
    _assert_problem(await client.get("/_probe/conflict"), 409, "SKU_CONFLICT")
    response = await client.get("/_probe/unavailable")
    _assert_problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "7"


async def test_http_exception_is_rendered_as_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.include_router(_probe_router())
    body = _assert_problem(await client.get("/_probe/http"), 418, "IM_A_TEAPOT")
    assert body["detail"] == "short and stout"


async def test_validation_errors_list_each_field(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.include_router(_probe_router())
    response = await client.post("/_probe/validate", json={"lines": [{"quantity": 101}]})
    body = _assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"] == [
        {
            "field": "body.lines.0.quantity",
            "message": "Input should be less than or equal to 100",
            "code": "less_than_equal",
        }
    ]


async def test_malformed_json_is_a_422_problem(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.include_router(_probe_router())
    response = await client.post(
        "/_probe/validate", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = _assert_problem(response, 422, "VALIDATION_ERROR")
    assert isinstance(body["errors"], list)
    assert body["errors"][0]["code"] == "json_invalid"


async def test_unhandled_exception_is_a_generic_500_without_internals(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.include_router(_probe_router())
    response = await client.get("/_probe/crash", headers={"X-Request-ID": "crash-1"})
    body = _assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "crash-1"
    text = response.text
    for leak in ("secret", "SELECT", "/srv", "RuntimeError", "Traceback"):
        assert leak not in text
    assert response.headers["x-content-type-options"] == "nosniff"

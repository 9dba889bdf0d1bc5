"""The OpenAPI document describes errors as they are served (SPEC "Errors"): each
route lists the codes it can answer with, under their real status, as problem+json."""

from __future__ import annotations

from typing import Any

import httpx

from orderly.core.errors import AppError, NotFoundError
from orderly.core.problems import PROBLEM_MEDIA_TYPE
from orderly.core.responses import Problem
from tests.support.api import add_item, place_order, register

Document = dict[str, Any]


def error_classes() -> dict[str, list[type[AppError]]]:
    """Every error class the app defines (its modules are imported with the app), by code."""
    by_code: dict[str, list[type[AppError]]] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        by_code.setdefault(cls.code, []).append(cls)
        pending.extend(cls.__subclasses__())
    return by_code


def documented_detail(cls: type[AppError]) -> str:
    if issubclass(cls, NotFoundError):
        return f"{cls.resource} '…' was not found"
    return cls.default_detail


def error_responses(document: Document) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", status, response)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]


def documented_codes(document: Document, method: str, path: str, status: int) -> set[str]:
    response = document["paths"][path][method.lower()]["responses"].get(str(status), {})
    examples = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
    return {example["value"]["code"] for example in examples.values()}


async def test_every_documented_error_example_is_a_real_error_under_its_own_status(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    classes = error_classes()
    assert "Problem" in document["components"]["schemas"]
    responses = error_responses(document)
    assert len(responses) > 60
    for operation, status, response in responses:
        where = f"{operation} {status}"
        assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], where
        content = response["content"][PROBLEM_MEDIA_TYPE]
        assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, where
        assert content["examples"], where
        for name, example in content["examples"].items():
            value = Problem.model_validate(example["value"])
            assert name == value.code, where
            assert value.code in classes, f"{where}: no error class has code {value.code}"
            same_code = [cls for cls in classes[value.code] if cls.status == int(status)]
            assert same_code, f"{where}: {value.code} is not served with status {status}"
            assert value.status == int(status), where
            assert value.detail in {documented_detail(cls) for cls in same_code}, where
            assert value.code in response["description"], where


async def test_every_documented_error_class_states_its_own_detail(
    client: httpx.AsyncClient,
) -> None:
    """Not one inherited from a generic base (a 409 that reads "conflicts with the
    current state" tells a client nothing)."""
    document = (await client.get("/openapi.json")).json()
    bases = {AppError, *AppError.__subclasses__()}
    classes = error_classes()
    for operation, status, response in error_responses(document):
        for code in response["content"][PROBLEM_MEDIA_TYPE]["examples"]:
            assert any(
                cls in bases or issubclass(cls, NotFoundError) or "default_detail" in vars(cls)
                for cls in classes[code]
                if cls.status == int(status)
            ), f"{operation} {status} {code}"


async def test_errors_served_by_the_api_are_documented_on_their_routes(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=1)
    order_id = (await place_order(client, owner.headers, [(item["id"], 1)])).json()["id"]
    await client.post(f"/api/v1/orders/{order_id}/cancel", headers=owner.headers)
    sku_taken = {
        "sku": item["sku"],
        "name": "Copy",
        "price": "1.00",
        "currency": "USD",
        "stock": 1,
    }
    served: list[tuple[str, str, str, httpx.Response]] = [
        (
            "INSUFFICIENT_STOCK",
            "POST",
            "/api/v1/orders",
            await place_order(client, owner.headers, [(item["id"], 5)]),
        ),
        (
            "INVALID_ORDER_STATE",
            "POST",
            "/api/v1/orders/{order_id}/cancel",
            await client.post(f"/api/v1/orders/{order_id}/cancel", headers=owner.headers),
        ),
        (
            "ORDER_NOT_FOUND",
            "GET",
            "/api/v1/orders/{order_id}",
            await client.get("/api/v1/orders/ord_unknown", headers=owner.headers),
        ),
        (
            "INVALID_CURSOR",
            "GET",
            "/api/v1/items",
            await client.get("/api/v1/items?cursor=not-a-cursor", headers=owner.headers),
        ),
        (
            "PRECONDITION_FAILED",
            "PATCH",
            "/api/v1/items/{item_id}",
            await client.patch(
                f"/api/v1/items/{item['id']}",
                headers={**owner.headers, "If-Match": '"stale"'},
                json={"name": "Renamed"},
            ),
        ),
        (
            "SKU_CONFLICT",
            "POST",
            "/api/v1/items",
            await client.post("/api/v1/items", headers=owner.headers, json=sku_taken),
        ),
        ("NOT_AUTHENTICATED", "GET", "/api/v1/users", await client.get("/api/v1/users")),
        (
            "INVALID_CREDENTIALS",
            "POST",
            "/api/v1/auth/login",
            await client.post(
                "/api/v1/auth/login", data={"username": owner.email, "password": "wrong-pass"}
            ),
        ),
    ]
    for expected, method, path, response in served:
        code = response.json()["code"]
        assert code == expected, (method, path, response.text)
        documented = documented_codes(document, method, path, response.status_code)
        assert code in documented, f"{method} {path}: {response.status_code} {code} undocumented"

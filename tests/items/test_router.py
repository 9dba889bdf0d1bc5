"""The catalog over HTTP (SPEC "Catalog", "Lists")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.items.helpers import ITEMS, create, events_of, item_body, item_count
from tests.support.api import Account, add_api_key, add_user, key_headers, register


async def test_an_owner_adds_an_item_and_reads_it_back(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    body = item_body(sku="MUG-001", currency="usd", description="Stoneware")
    created = await client.post(ITEMS, headers=owner.headers, json=body)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["id"].startswith("itm_")
    assert created.headers["location"] == f"{ITEMS}/{item['id']}"
    assert created.headers["etag"] == f'"{item["id"]}-v1"'
    assert item | {"id": "", "created_at": "", "updated_at": ""} == {
        "id": "",
        "sku": "MUG-001",
        "name": "Coffee mug",
        "description": "Stoneware",
        "price": "12.50",
        "currency": "USD",
        "stock": 10,
        "active": True,
        "version": 1,
        "created_at": "",
        "updated_at": "",
    }
    shown = await client.get(created.headers["location"], headers=owner.headers)
    assert shown.status_code == 200
    assert shown.json() == item
    assert shown.headers["etag"] == created.headers["etag"]


@pytest.mark.parametrize(
    ("price", "currency", "shown"),
    [
        ("1200", "JPY", "1200"),
        ("3", "USD", "3.00"),
        ("0.5", "EUR", "0.50"),
        ("1.5", "KWD", "1.500"),
        ("0", "BHD", "0.000"),
        ("1.2345", "CLF", "1.2345"),
        ("1000000000", "USD", "1000000000.00"),
    ],
)
async def test_prices_are_shown_with_exactly_the_currencys_decimals(
    client: httpx.AsyncClient, price: str, currency: str, shown: str
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, price=price, currency=currency)
    assert (item["price"], item["currency"]) == (shown, currency)


LONG = "x" * 2001

INVALID: list[tuple[dict[str, object], str, str]] = [
    ({"sku": "-starts-with-dash"}, "body.sku", "string_pattern_mismatch"),
    ({"sku": "has space"}, "body.sku", "string_pattern_mismatch"),
    ({"sku": "A" * 65}, "body.sku", "string_pattern_mismatch"),
    ({"sku": ""}, "body.sku", "string_pattern_mismatch"),
    ({"name": ""}, "body.name", "string_too_short"),
    ({"name": "   "}, "body.name", "string_too_short"),
    ({"name": "n" * 201}, "body.name", "string_too_long"),
    ({"description": LONG}, "body.description", "string_too_long"),
    ({"price": "10.5", "currency": "JPY"}, "body.price", "money_precision"),
    ({"price": "1.234", "currency": "USD"}, "body.price", "money_precision"),
    ({"price": "1.00001", "currency": "CLF"}, "body.price", "money_precision"),
    ({"price": 12.5}, "body.price", "money_not_string"),
    ({"price": 12}, "body.price", "money_not_string"),
    ({"price": "-1.00"}, "body.price", "money_format"),
    ({"price": "1e3"}, "body.price", "money_format"),
    ({"price": "12,50"}, "body.price", "money_format"),
    ({"price": ".5"}, "body.price", "money_format"),
    ({"price": "NaN"}, "body.price", "money_format"),
    ({"price": "1000000000.01"}, "body.price", "money_too_large"),
    ({"currency": "XXX"}, "body.currency", "currency_unknown"),
    ({"currency": "HRK"}, "body.currency", "currency_unknown"),
    ({"currency": "US"}, "body.currency", "string_too_short"),
    ({"stock": -1}, "body.stock", "greater_than_equal"),
    ({"stock": 1_000_000_001}, "body.stock", "less_than_equal"),
    ({"stock": "5"}, "body.stock", "int_type"),
    ({"stock": 1.5}, "body.stock", "int_type"),
    ({"tenant_id": "ten_other"}, "body.tenant_id", "extra_forbidden"),
    ({"version": 7}, "body.version", "extra_forbidden"),
    ({"sku": None}, "body.sku", "string_type"),
]


@pytest.mark.parametrize(("override", "field", "code"), INVALID)
async def test_an_invalid_item_is_422_naming_the_field_and_nothing_is_added(
    app: FastAPI, client: httpx.AsyncClient, override: dict[str, object], field: str, code: str
) -> None:
    owner = await register(client)
    response = await client.post(ITEMS, headers=owner.headers, json=item_body(**override))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert await item_count(app, owner.tenant_id) == 0
    assert await events_of(app, owner.tenant_id) == []


async def test_the_largest_price_and_stock_are_stored_and_read_back_exactly(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await create(
        client, owner.headers, price="1000000000.0000", currency="CLF", stock=1_000_000_000
    )
    read = (await client.get(f"{ITEMS}/{item['id']}", headers=owner.headers)).json()
    assert (read["price"], read["stock"]) == ("1000000000.0000", 1_000_000_000)
    patched = await client.patch(
        f"{ITEMS}/{item['id']}", headers=owner.headers, json={"stock": 2**31}
    )
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["code"] == "less_than_equal"


async def test_a_missing_field_is_422_naming_it(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    body = item_body()
    del body["price"]
    response = await client.post(ITEMS, headers=owner.headers, json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.price"]


async def test_a_duplicate_sku_is_409_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    await create(client, owner.headers, sku="DUP-1")
    response = await client.post(ITEMS, headers=owner.headers, json=item_body(sku="DUP-1"))
    assert response.status_code == 409
    assert response.json()["code"] == "SKU_CONFLICT"
    assert "IntegrityError" not in response.text
    assert await item_count(app, owner.tenant_id) == 1
    assert [e.type for e in await events_of(app, owner.tenant_id)] == ["item.created"]


async def test_the_same_sku_in_another_tenant_is_fine(client: httpx.AsyncClient) -> None:
    first = await register(client, "First")
    second = await register(client, "Second")
    await create(client, first.headers, sku="SHARED-1")
    await create(client, second.headers, sku="SHARED-1")


async def test_an_unknown_item_is_404_item_not_found(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    path = f"{ITEMS}/itm_doesnotexist"
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        response = await client.request(method, path, headers=owner.headers, json=body)
        assert response.status_code == 404, method
        assert response.json()["code"] == "ITEM_NOT_FOUND"


@pytest.mark.parametrize(
    "item_id", ["itm_" + "0" * 23, "ITM_" + "0" * 24, "itm_" + "i" * 24, "itm_" + "0" * 5000]
)
async def test_an_item_id_of_another_shape_is_404_like_an_unknown_one(
    client: httpx.AsyncClient, item_id: str
) -> None:
    owner = await register(client)
    response = await client.get(f"{ITEMS}/{item_id}", headers=owner.headers)
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "ITEM_NOT_FOUND"
    assert len(problem["detail"]) < 150  # a long id is quoted shortened


async def test_a_malformed_item_id_with_an_invalid_body_is_422_on_the_body(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    response = await client.patch(f"{ITEMS}/itm_nope", headers=owner.headers, json={"stock": -1})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.stock"]


# -- changing and archiving ------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, description="old")
    response = await client.patch(
        f"{ITEMS}/{item['id']}", headers=owner.headers, json={"name": "Tea mug", "stock": 3}
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Tea mug"
    assert changed["stock"] == 3
    assert changed["description"] == "old"
    assert changed["price"] == "12.50"
    assert changed["version"] == 2
    assert response.headers["etag"] == f'"{item["id"]}-v2"'


async def test_a_patch_that_changes_nothing_keeps_the_version(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    for body in ({}, {"name": item["name"], "price": "12.5"}):
        response = await client.patch(f"{ITEMS}/{item['id']}", headers=owner.headers, json=body)
        assert response.status_code == 200
        assert response.json()["version"] == 1
    assert [e.type for e in await events_of(app, owner.tenant_id)] == ["item.created"]


async def test_description_can_be_cleared_but_required_fields_cannot_be_nulled(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, description="old")
    path = f"{ITEMS}/{item['id']}"
    cleared = await client.patch(path, headers=owner.headers, json={"description": None})
    assert cleared.json()["description"] is None
    for field in ("sku", "name", "price", "currency", "stock"):
        response = await client.patch(path, headers=owner.headers, json={field: None})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == f"body.{field}"
    assert (await client.get(path, headers=owner.headers)).json()["version"] == 2


async def test_a_patched_price_must_fit_the_items_currency(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, price="1200", currency="JPY")
    path = f"{ITEMS}/{item['id']}"
    response = await client.patch(path, headers=owner.headers, json={"price": "10.5"})
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("body.price", "money_precision")
    ]
    assert (await client.get(path, headers=owner.headers)).json() == item
    assert [e.type for e in await events_of(app, owner.tenant_id)] == ["item.created"]


async def test_a_new_currency_re_expresses_the_current_price(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await create(client, owner.headers, price="12.50", currency="USD")
    path = f"{ITEMS}/{item['id']}"
    kwd = await client.patch(path, headers=owner.headers, json={"currency": "kwd"})
    assert (kwd.json()["price"], kwd.json()["currency"]) == ("12.500", "KWD")
    to_yen = await client.patch(path, headers=owner.headers, json={"currency": "JPY"})
    assert to_yen.status_code == 422
    assert to_yen.json()["errors"][0]["field"] == "body.currency"
    with_price = await client.patch(
        path, headers=owner.headers, json={"currency": "JPY", "price": "1800"}
    )
    assert (with_price.json()["price"], with_price.json()["currency"]) == ("1800", "JPY")
    both_sent = await client.patch(
        path, headers=owner.headers, json={"currency": "USD", "price": "1.234"}
    )
    assert both_sent.status_code == 422
    assert both_sent.json()["errors"][0]["field"] == "body.price"


async def test_patching_to_a_taken_sku_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    await create(client, owner.headers, sku="TAKEN")
    item = await create(client, owner.headers, sku="MINE")
    path = f"{ITEMS}/{item['id']}"
    response = await client.patch(path, headers=owner.headers, json={"sku": "TAKEN", "stock": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "SKU_CONFLICT"
    assert (await client.get(path, headers=owner.headers)).json() == item


async def test_archiving_hides_nothing_but_marks_the_item_inactive_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    for _ in range(2):
        response = await client.delete(path, headers=owner.headers)
        assert response.status_code == 204
        assert response.content == b""
    shown = (await client.get(path, headers=owner.headers)).json()
    assert (shown["active"], shown["version"]) == (False, 2)
    assert [e.type for e in await events_of(app, owner.tenant_id)] == [
        "item.created",
        "item.archived",
    ]


# -- lists -------------------------------------------------------------------------------


async def _ids(client: httpx.AsyncClient, owner: Account, **params: str) -> list[str]:
    response = await client.get(ITEMS, headers=owner.headers, params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["items"]]


async def test_a_listed_item_is_exactly_the_item_read_alone(client: httpx.AsyncClient) -> None:
    """The page is serialized from rows, the single item from its model: same JSON, same
    key order, for every kind of value (null, zero-decimal money, archived)."""
    owner = await register(client)
    await create(client, owner.headers, description="Stoneware")
    await create(client, owner.headers, price="1200", currency="JPY", stock=0)
    archived = await create(client, owner.headers, price="0.05", currency="KWD")
    await client.delete(f"{ITEMS}/{archived['id']}", headers=owner.headers)
    listed = await client.get(ITEMS, headers=owner.headers)
    assert listed.status_code == 200
    assert list(listed.json()) == ["items", "next_cursor"]
    assert len(listed.json()["items"]) == 3
    for row in listed.json()["items"]:
        alone = await client.get(f"{ITEMS}/{row['id']}", headers=owner.headers)
        assert list(row.items()) == list(alone.json().items())


async def test_q_matches_name_or_sku_in_any_case_and_takes_wildcards_literally(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    mug = await create(client, owner.headers, name="Blue Mug", sku="CUP-1")
    plate = await create(client, owner.headers, name="Plate", sku="MUGGY-2")
    percent = await create(client, owner.headers, name="100% cotton", sku="T_1")
    await create(client, owner.headers, name="Other", sku="TX1")
    assert await _ids(client, owner, q="mug") == [plate["id"], mug["id"]]
    assert await _ids(client, owner, q="CUP") == [mug["id"]]
    assert await _ids(client, owner, q="%") == [percent["id"]]
    assert await _ids(client, owner, q="T_") == [percent["id"]]
    assert await _ids(client, owner, q="nothing") == []


async def test_active_and_in_stock_filter_the_list(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    stocked = await create(client, owner.headers, stock=5)
    sold_out = await create(client, owner.headers, stock=0)
    archived = await create(client, owner.headers, stock=2)
    await client.delete(f"{ITEMS}/{archived['id']}", headers=owner.headers)
    newest_first = [archived["id"], sold_out["id"], stocked["id"]]
    assert await _ids(client, owner) == newest_first
    assert await _ids(client, owner, active="true") == [sold_out["id"], stocked["id"]]
    assert await _ids(client, owner, active="false") == [archived["id"]]
    assert await _ids(client, owner, in_stock="true") == [archived["id"], stocked["id"]]
    assert await _ids(client, owner, in_stock="false") == [sold_out["id"]]
    assert await _ids(client, owner, active="true", in_stock="true") == [stocked["id"]]


async def test_a_walk_with_limit_2_sees_every_item_once_newest_first(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    created = [(await create(client, owner.headers))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(ITEMS, headers=owner.headers, params=params)).json()
        seen += [row["id"] for row in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))
    assert pages == 3


async def test_a_plain_page_is_exactly_what_the_validated_route_answers(
    client: httpx.AsyncClient,
) -> None:
    """A page asked for with only ``limit`` and ``cursor`` is answered by the direct read
    (core/cached_reads.py); a repeated parameter goes through FastAPI's validation
    (which keeps the last value). Same status, body and headers, page after page."""
    owner = await register(client)
    for _ in range(5):
        await create(client, owner.headers)
    cursor: str | None = None
    for _ in range(3):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        direct = await client.get(f"{ITEMS}?{query}", headers=owner.headers)
        validated = await client.get(f"{ITEMS}?limit=7&{query}", headers=owner.headers)
        assert direct.status_code == validated.status_code == 200
        assert direct.content == validated.content
        assert _stable(direct.headers) == _stable(validated.headers)
        cursor = direct.json()["next_cursor"]
    assert cursor is None


_VARYING = frozenset({"date", "x-request-id", "x-process-time"})


def _stable(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k not in _VARYING]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=007",
        "limit=%EF%BC%95",
        "limit=",
        "limit=2.0",
        "cursor=x",
        "cursor=",
    ],
)
async def test_a_query_the_direct_read_leaves_is_answered_as_the_route_answers_it(
    client: httpx.AsyncClient, query: str
) -> None:
    """Whatever the direct read does with a query, it is what FastAPI's validation does
    with it (reached here through a repeated parameter, of which it keeps the last)."""
    owner = await register(client)
    await create(client, owner.headers)
    direct = await client.get(f"{ITEMS}?{query}", headers=owner.headers)
    validated = await client.get(f"{ITEMS}?limit=3&{query}", headers=owner.headers)
    assert direct.status_code == validated.status_code
    assert _without_request_id(direct) == _without_request_id(validated)


def _without_request_id(response: httpx.Response) -> object:
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return body


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ.AAAA", "x" * 600])
async def test_a_garbled_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    owner = await register(client)
    response = await client.get(ITEMS, headers=owner.headers, params={"cursor": cursor})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"q": ""}, {"active": "maybe"}])
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    owner = await register(client)
    response = await client.get(ITEMS, headers=owner.headers, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("query.")


# -- conditional requests -----------------------------------------------------------------


async def test_if_none_match_with_the_current_etag_is_304_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    full = await client.get(path, headers=owner.headers)
    etag = full.headers["etag"]
    for header in (etag, f'"stale", {etag}', f"W/{etag}", "*"):
        response = await client.get(path, headers=owner.headers | {"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        for name in ("cache-control", "vary"):
            assert response.headers.get(name) == full.headers.get(name)


async def test_if_none_match_with_an_old_etag_gets_the_new_item(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    old = (await client.get(path, headers=owner.headers)).headers["etag"]
    await client.patch(path, headers=owner.headers, json={"stock": 1})
    response = await client.get(path, headers=owner.headers | {"If-None-Match": old})
    assert response.status_code == 200
    assert response.json()["stock"] == 1
    assert response.headers["etag"] != old


async def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    old = (await client.get(path, headers=owner.headers)).headers["etag"]
    first = await client.patch(
        path, headers=owner.headers | {"If-Match": old}, json={"name": "First"}
    )
    assert first.status_code == 200
    second = await client.patch(
        path, headers=owner.headers | {"If-Match": old}, json={"name": "Second"}
    )
    assert second.status_code == 412
    assert second.json()["code"] == "PRECONDITION_FAILED"
    assert (await client.get(path, headers=owner.headers)).json() == first.json()
    assert [e.type for e in await events_of(app, owner.tenant_id)] == [
        "item.created",
        "item.updated",
    ]


@pytest.mark.parametrize("if_match", ["{etag}", '"other", {etag}', "*"])
async def test_a_patch_with_a_current_if_match_applies(
    client: httpx.AsyncClient, if_match: str
) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    etag = (await client.get(path, headers=owner.headers)).headers["etag"]
    response = await client.patch(
        path, headers=owner.headers | {"If-Match": if_match.format(etag=etag)}, json={"stock": 4}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{item["id"]}-v2"'


async def test_a_weak_if_match_never_matches(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    etag = (await client.get(path, headers=owner.headers)).headers["etag"]
    response = await client.patch(
        path, headers=owner.headers | {"If-Match": f"W/{etag}"}, json={"stock": 4}
    )
    assert response.status_code == 412


# -- who may do what ----------------------------------------------------------------------


async def test_a_member_reads_the_catalog_but_cannot_change_it(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    member = await add_user(client, owner, "member")
    item = await create(client, owner.headers)
    path = f"{ITEMS}/{item['id']}"
    assert (await client.get(path, headers=member.headers)).status_code == 200
    assert (await client.get(ITEMS, headers=member.headers)).status_code == 200
    for method, url, body in (
        ("POST", ITEMS, item_body()),
        ("PATCH", path, {"stock": 0}),
        ("DELETE", path, None),
    ):
        response = await client.request(method, url, headers=member.headers, json=body)
        assert response.status_code == 403, method
    assert (await client.get(path, headers=owner.headers)).json() == item


async def test_an_admin_manages_the_catalog(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    item = await create(client, admin.headers)
    response = await client.delete(f"{ITEMS}/{item['id']}", headers=admin.headers)
    assert response.status_code == 204


async def test_api_keys_need_the_items_scopes(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await create(client, owner.headers)
    reader = key_headers((await add_api_key(client, owner, ["read:items"]))["key"])
    writer = key_headers((await add_api_key(client, owner, ["write:items"]))["key"])
    assert (await client.get(f"{ITEMS}/{item['id']}", headers=reader)).status_code == 200
    denied = await client.post(ITEMS, headers=reader, json=item_body())
    assert denied.status_code == 403
    assert denied.json()["code"] == "INSUFFICIENT_SCOPE"
    assert (await client.post(ITEMS, headers=writer, json=item_body())).status_code == 201


# -- outbox --------------------------------------------------------------------------------


async def test_every_change_writes_an_event_with_the_item_as_shown(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    created = await create(client, owner.headers)
    path = f"{ITEMS}/{created['id']}"
    updated = (await client.patch(path, headers=owner.headers, json={"stock": 2})).json()
    await client.delete(path, headers=owner.headers)
    archived = (await client.get(path, headers=owner.headers)).json()
    events = await events_of(app, owner.tenant_id)
    assert [(e.type, e.subject_id, e.payload) for e in events] == [
        ("item.created", created["id"], created),
        ("item.updated", created["id"], updated),
        ("item.archived", created["id"], archived),
    ]
    assert events[0].id < events[1].id < events[2].id

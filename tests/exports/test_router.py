"""``/api/v1/exports`` end to end (SPEC "Exports"): who may export, plans, validation,
tenant isolation, and the file itself."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from orderly.core.database import DATABASE, utcnow
from orderly.exports import csvfile, flows
from orderly.exports.csvfile import HEADER
from tests.exports.support import (
    EXPORTS,
    download_rows,
    finished,
    insert_orders,
    open_shop,
    start_export,
)
from tests.support.api import add_api_key, add_user, key_headers, place_order
from tests.support.parts import part


async def test_the_free_plan_is_402_upgrade_required_and_pro_is_202_with_location(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client, plan="free")
    refused = await client.post(EXPORTS, headers=shop.owner.headers, json={"kind": "orders_csv"})
    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["code"], problem["plan"], problem["feature"]) == (
        "PLAN_UPGRADE_REQUIRED",
        "free",
        "exports",
    )

    upgraded = await client.put(
        "/api/v1/tenant/plan", headers=shop.owner.headers, json={"plan": "pro"}
    )
    assert upgraded.status_code == 200
    accepted = await client.post(EXPORTS, headers=shop.owner.headers, json={"kind": "orders_csv"})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert accepted.headers["location"] == f"/api/v1/exports/{body['id']}"
    assert body["id"].startswith("exp_")
    assert (body["kind"], body["status"], body["progress"], body["rows"]) == (
        "orders_csv",
        "queued",
        0,
        0,
    )
    assert (body["error"], body["download_url"]) == (None, None)
    assert set(body) >= {"created_at", "expires_at"}


async def test_a_member_is_403_and_keys_need_read_orders(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client)
    member = await add_user(client, shop.owner, "member")
    admin = await add_user(client, shop.owner, "admin")
    reader = (await add_api_key(client, shop.owner, ["read:orders"]))["key"]
    catalog = (await add_api_key(client, shop.owner, ["read:items"], name="c"))["key"]
    body = {"kind": "orders_csv"}

    as_member = await client.post(EXPORTS, headers=member.headers, json=body)
    assert (as_member.status_code, as_member.json()["code"]) == (403, "FORBIDDEN")
    assert (await client.get(EXPORTS, headers=member.headers)).status_code == 403
    as_catalog = await client.post(EXPORTS, headers=key_headers(catalog), json=body)
    assert (as_catalog.status_code, as_catalog.json()["code"]) == (403, "INSUFFICIENT_SCOPE")
    assert (await client.post(EXPORTS, headers=admin.headers, json=body)).status_code == 202
    as_key = await client.post(EXPORTS, headers=key_headers(reader), json=body)
    assert as_key.status_code == 202


async def test_another_tenants_export_is_404_everywhere(client: httpx.AsyncClient) -> None:
    mine = await open_shop(client, name="Mine")
    theirs = await open_shop(client, name="Theirs")
    export = await start_export(client, mine.owner.headers)
    await finished(client, mine.owner.headers, export["id"])

    for path in ("", "/download", "/progress"):
        response = await client.get(
            f"{EXPORTS}/{export['id']}{path}", headers=theirs.owner.headers
        )
        assert response.status_code == 404, path
        assert response.json()["code"] == "EXPORT_NOT_FOUND"
    listed = await client.get(EXPORTS, headers=theirs.owner.headers)
    assert listed.json()["items"] == []
    malformed = await client.get(f"{EXPORTS}/exp_nope", headers=mine.owner.headers)
    assert (malformed.status_code, malformed.json()["code"]) == (404, "EXPORT_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "items_csv"}, "body.kind"),
        ({}, "body.kind"),
        ({"kind": "orders_csv", "status": "shipped"}, "body.status"),
        ({"kind": "orders_csv", "created_after": "yesterday"}, "body.created_after"),
        ({"kind": "orders_csv", "created_after": "2026-01-01T00:00:00"}, "body.created_after"),
        ({"kind": "orders_csv", "created_before": "2" * 65}, "body.created_before"),
        ({"kind": "orders_csv", "format": "xlsx"}, "body.format"),
        (
            {
                "kind": "orders_csv",
                "created_after": "2026-02-01T00:00:00Z",
                "created_before": "2026-01-01T00:00:00Z",
            },
            "body",
        ),
    ],
)
async def test_a_bad_kind_or_filter_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    shop = await open_shop(client)
    response = await client.post(EXPORTS, headers=shop.owner.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_an_export_of_orders_has_a_row_per_line_with_money_as_decimal_strings(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows, "PAGE_ORDERS", 7)  # several pages
    shop = await open_shop(client)
    engine = part(app, DATABASE).engine
    made = await insert_orders(engine, shop, 40, lines=2)
    placed = await place_order(client, shop.owner.headers, [(shop.item["id"], 3)])
    assert placed.status_code == 201

    export = await start_export(client, shop.owner.headers)
    done = await finished(client, shop.owner.headers, export["id"])
    assert (done["status"], done["progress"], done["rows"]) == ("succeeded", 100, 81)
    assert done["download_url"] == f"/api/v1/exports/{export['id']}/download"
    rows = await download_rows(client, shop.owner.headers, export["id"])
    assert len(rows) == 81
    assert tuple(rows[0]) == HEADER
    # Newest first: the order placed through the API, then the inserted ones.
    assert rows[0]["order_id"] == placed.json()["id"]
    assert (rows[0]["quantity"], rows[0]["unit_price"], rows[0]["line_total"]) == (
        "3",
        "12.50",
        "37.50",
    )
    assert [r["order_id"] for r in rows[1::2]] == [order_id for order_id, _ in made]
    second = rows[2]
    assert (second["line_number"], second["quantity"], second["line_total"]) == ("2", "2", "25.00")
    assert second["order_total"] == "37.50"
    assert all(
        Decimal(r["line_total"]) == Decimal(r["unit_price"]) * int(r["quantity"]) for r in rows
    )
    assert {r["currency"] for r in rows} == {"USD"}


async def test_the_filters_choose_the_orders(client: httpx.AsyncClient, app: FastAPI) -> None:
    shop = await open_shop(client)
    engine = part(app, DATABASE).engine
    newest = utcnow() - timedelta(minutes=1)
    pending = await insert_orders(engine, shop, 10, newest=newest, step=timedelta(hours=1))
    await insert_orders(engine, shop, 5, status="cancelled", newest=newest)
    headers = shop.owner.headers

    cancelled = await start_export(client, headers, status="cancelled")
    window = await start_export(
        client,
        headers,
        status="pending",
        created_after=pending[6][1].isoformat(),  # inclusive
        created_before=pending[2][1].isoformat(),  # exclusive
    )
    assert (await finished(client, headers, cancelled["id"]))["rows"] == 5
    rows = await download_rows(client, headers, cancelled["id"])
    assert {r["order_status"] for r in rows} == {"cancelled"}
    assert (await finished(client, headers, window["id"]))["rows"] == 4
    rows = await download_rows(client, headers, window["id"])
    assert [r["order_id"] for r in rows] == [order_id for order_id, _ in pending[3:7]]


async def test_an_export_of_no_orders_is_the_header_alone(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client)
    export = await start_export(client, shop.owner.headers)
    done = await finished(client, shop.owner.headers, export["id"])
    assert (done["status"], done["progress"], done["rows"]) == ("succeeded", 100, 0)
    response = await client.get(f"{EXPORTS}/{export['id']}/download", headers=shop.owner.headers)
    assert response.text == ",".join(HEADER) + "\r\n"
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["vary"].startswith("Authorization, X-API-Key")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="orders-')
    assert disposition.endswith(f'-{export["id"]}.csv"')


async def test_text_a_spreadsheet_would_run_is_written_inert(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    shop.item["name"] = '=HYPERLINK("http://evil.example","x")'
    await insert_orders(part(app, DATABASE).engine, shop, 1)
    export = await start_export(client, shop.owner.headers)
    await finished(client, shop.owner.headers, export["id"])
    rows = await download_rows(client, shop.owner.headers, export["id"])
    assert rows[0]["item_name"] == "'" + shop.item["name"]
    assert csvfile.inert("plain") == "plain"


async def test_a_retry_with_the_same_idempotency_key_starts_one_export(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client)
    headers = shop.owner.headers | {"Idempotency-Key": "export-once"}
    first = await client.post(EXPORTS, headers=headers, json={"kind": "orders_csv"})
    again = await client.post(EXPORTS, headers=headers, json={"kind": "orders_csv"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["x-idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    listed = (await client.get(EXPORTS, headers=shop.owner.headers)).json()
    assert [e["id"] for e in listed["items"]] == [first.json()["id"]]


async def test_the_list_pages_newest_first(client: httpx.AsyncClient) -> None:
    shop = await open_shop(client)
    ids = [(await start_export(client, shop.owner.headers))["id"] for _ in range(3)]
    first = (await client.get(EXPORTS, headers=shop.owner.headers, params={"limit": 2})).json()
    assert [e["id"] for e in first["items"]] == ids[:0:-1]
    rest = await client.get(
        EXPORTS, headers=shop.owner.headers, params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert ([e["id"] for e in rest.json()["items"]], rest.json()["next_cursor"]) == (
        ids[:1],
        None,
    )
    forged = await client.get(EXPORTS, headers=shop.owner.headers, params={"cursor": "x.y"})
    assert forged.status_code == 422

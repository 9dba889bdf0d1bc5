"""Listing orders costs a fixed number of statements, whatever the page size."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from orderly.core.database import DATABASE
from tests.support.api import add_item, place_order, register
from tests.support.database import count_statements
from tests.support.parts import part


async def test_a_page_of_twenty_orders_is_two_queries(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await register(client)
    items = [await add_item(client, owner.headers, stock=100) for _ in range(3)]
    for _ in range(21):
        response = await place_order(client, owner.headers, [(i["id"], 1) for i in items])
        assert response.status_code == 201
    with count_statements(part(app, DATABASE).engine) as statements:
        page = (await client.get("/api/v1/orders", headers=owner.headers)).json()
    assert len(page["items"]) == 20
    assert all(len(order["lines"]) == 3 for order in page["items"])
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, statements

"""Listing orders costs a fixed number of statements, whatever the page size."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from orderly.core.database import DATABASE
from tests.support.api import add_item, place_order, register, stock_of
from tests.support.database import count_statements
from tests.support.parts import part
from tests.support.services import Backend


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


async def test_placing_an_order_on_postgresql_is_a_read_and_one_write_statement(
    app: FastAPI, client: httpx.AsyncClient, backend: Backend
) -> None:
    """PostgreSQL: the items read, then stock, order, lines and outbox row in one
    statement. SQLite keeps its plain statements (its writers hold the file anyway)."""
    owner = await register(client)
    items = [await add_item(client, owner.headers, stock=10) for _ in range(2)]
    with count_statements(part(app, DATABASE).engine) as statements:
        response = await place_order(client, owner.headers, [(i["id"], 2) for i in items])
    assert response.status_code == 201
    sent = [s.lstrip().split()[0].upper() for s in statements]
    if backend.name == "postgres":
        assert sent == ["SELECT", "WITH"], statements
    else:
        assert sent == ["BEGIN", "SELECT", "INSERT", "INSERT", "INSERT", "UPDATE", "UPDATE"]
    for item in items:
        assert await stock_of(client, owner.headers, item["id"]) == 8

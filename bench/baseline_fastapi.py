"""Bare FastAPI baseline: no middleware, no auth, data in memory, same JSON shapes.

Idiomatic on purpose (declared return types, so FastAPI serializes through
pydantic-core in Rust), so that ratios against it measure Orderly's own cost.
Run: ``uvicorn bench.baseline_fastapi:app --loop uvloop --http httptools``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import FastAPI, Form, Header, HTTPException, Query, Response

from bench.baseline_data import (
    Catalog,
    Health,
    Item,
    ItemPage,
    Order,
    OrderCreate,
    OrderLine,
    Token,
    decode_cursor,
)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
catalog = Catalog()
_ALIVE = Health(status="alive")
# Fixed fake tokens: the baseline authenticates nothing.
_TOKEN = Token.model_validate(
    {
        "access_token": "baseline-token",
        "token_type": "bearer",
        "expires_in": 900,
        "refresh_token": "baseline-refresh",
    }
)


@app.get("/health/live")
async def health_live() -> Health:
    return _ALIVE


@app.get("/api/v1/items")
async def list_items(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ItemPage:
    offset = 0
    if cursor is not None:
        decoded = decode_cursor(cursor)
        if decoded is None:
            raise HTTPException(status_code=422, detail="malformed cursor")
        offset = decoded
    return catalog.page(limit, offset)


@app.get("/api/v1/items/{item_id}", response_model=Item)
async def get_item(
    item_id: str,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Item | Response:
    item = catalog.by_id.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="item not found")
    etag = catalog.etags[item_id]
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return item


def _line(item_id: str, quantity: int) -> OrderLine:
    item = catalog.by_id.get(item_id)
    if item is None or item.archived:
        raise HTTPException(status_code=404, detail="item not found")
    if item.stock < quantity:
        raise HTTPException(status_code=409, detail="insufficient stock")
    return OrderLine(
        item_id=item.id,
        sku=item.sku,
        name=item.name,
        quantity=quantity,
        unit_price=item.price,
    )


@app.post("/api/v1/orders", status_code=201)
async def create_order(body: OrderCreate) -> Order:
    lines = [_line(line.item_id, line.quantity) for line in body.lines]
    for line in lines:  # all lines checked first: nothing is taken on a 409
        catalog.take(catalog.by_id[line.item_id], line.quantity)
    return Order(
        id="ord_" + uuid.uuid4().hex,
        status="pending",
        lines=lines,
        total=sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0.00")),
        currency="USD",
        user_id="usr_baseline",
        created_at=datetime.now(UTC),
    )


@app.post("/api/v1/auth/login")
async def login(
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Token:
    """Form parsing only, no password hashing: lets the login-storm machinery run."""
    del username, password
    return _TOKEN

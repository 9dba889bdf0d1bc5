"""In-memory catalog shared by the two baselines, shaped like SPEC.md's resources."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, TypeAdapter

HOT_SKU = "BENCH-HOT"
HOT_STOCK = 1_000_000  # what the harness seeds into Orderly
BASELINE_HOT_STOCK = 1_000_000_000  # the baseline takes ~9k orders/s: never runs out
ITEM_COUNT = 1_000
ITEM_STOCK = 1_000
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_NAMESPACE = uuid.UUID("6f1c3c52-5d0e-4d55-9a3e-0d2b8f7a1c00")


class Item(BaseModel):
    id: str
    sku: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    stock: int
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    items: list[Item]
    next_cursor: str | None


class OrderLineIn(BaseModel):
    item_id: str
    quantity: Annotated[int, Field(ge=1, le=100)]


class OrderCreate(BaseModel):
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=50)]


class OrderLine(BaseModel):
    item_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


class Order(BaseModel):
    id: str
    status: str
    lines: list[OrderLine]
    total: Decimal
    currency: str
    user_id: str
    created_at: datetime


class Health(BaseModel):
    status: str


class Token(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str


def _make_item(index: int) -> Item:
    hot = index == 0
    created = _EPOCH + timedelta(seconds=ITEM_COUNT - index)
    return Item(
        id="itm_" + uuid.uuid5(_NAMESPACE, str(index)).hex,
        sku=HOT_SKU if hot else f"BENCH-{index:04d}",
        name="Hot item" if hot else f"Bench item {index}",
        description=f"Seeded benchmark item number {index}",
        price=Decimal("12.50"),
        currency="USD",
        stock=BASELINE_HOT_STOCK if hot else ITEM_STOCK,
        archived=False,
        version=1,
        created_at=created,
        updated_at=created,
    )


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """Return the offset in ``cursor``, or None when it is malformed."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        offset = int(value)
    except ValueError:
        return None
    return offset if prefix == "o" and offset >= 0 else None


def etag_of(item: Item) -> str:
    digest = hashlib.sha256(f"{item.id}:{item.version}".encode()).hexdigest()
    return f'"{digest[:32]}"'


class Catalog:
    """Items newest first (the hot item is the newest), looked up by id."""

    def __init__(self) -> None:
        self.items = [_make_item(i) for i in range(ITEM_COUNT)]
        self.by_id = {item.id: item for item in self.items}
        self.etags = {item.id: etag_of(item) for item in self.items}

    def page(self, limit: int, offset: int = 0) -> ItemPage:
        end = offset + limit
        more = end < len(self.items)
        return ItemPage(
            items=self.items[offset:end],
            next_cursor=encode_cursor(end) if more else None,
        )

    def take(self, item: Item, quantity: int) -> None:
        item.stock -= quantity
        item.version += 1
        self.etags[item.id] = etag_of(item)


PAGE_ADAPTER: TypeAdapter[ItemPage] = TypeAdapter(ItemPage)

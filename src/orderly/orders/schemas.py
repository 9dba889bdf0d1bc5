from __future__ import annotations

from typing import Annotated

from pydantic import Field

from orderly.core.ids import id_check, id_path
from orderly.core.schemas import (
    InputSchema,
    ReadSchema,
    ShownAmount,
    ShownCurrency,
    ShownId,
    ShownTimestamp,
    shown_integer,
    shown_text,
)
from orderly.orders.exceptions import OrderNotFoundError
from orderly.orders.states import OrderStatus

MAX_LINES = 50
MAX_QUANTITY_PER_ITEM = 100

OrderId = Annotated[str, id_path("ord", "order"), id_check("ord", OrderNotFoundError)]


class OrderLineCreate(InputSchema):
    item_id: str = Field(min_length=1, max_length=64, examples=["itm_..."])
    # Strict: "1", true and 1e2 are not quantities. The upper bound is a business rule
    # with its own error code, checked by the service after duplicate lines are merged
    # (any size of integer, so nothing larger ever reaches a column); documented here.
    quantity: int = Field(
        ge=1,
        strict=True,
        examples=[2],
        json_schema_extra={"maximum": MAX_QUANTITY_PER_ITEM, "format": "int32"},
        description=f"1-{MAX_QUANTITY_PER_ITEM}; more of one item in an order is 422 "
        "`BUSINESS_RULE_MAX_ORDER_QUANTITY`.",
    )


class OrderCreate(InputSchema):
    lines: list[OrderLineCreate] = Field(
        min_length=1,
        max_length=MAX_LINES,
        description="Lines naming the same item are merged into one (quantities added).",
    )


class OrderLineRead(ReadSchema):
    item_id: ShownId
    sku: Annotated[str, shown_text(64)]
    name: Annotated[str, shown_text(200)]
    quantity: Annotated[int, shown_integer(1, MAX_QUANTITY_PER_ITEM)]
    unit_price: ShownAmount = Field(description="Price per unit when the order was placed.")


class OrderRead(ReadSchema):
    id: ShownId
    status: OrderStatus
    lines: list[OrderLineRead] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_LINES})
    total: ShownAmount = Field(examples=["25.00"])
    currency: ShownCurrency = Field(examples=["USD"])
    user_id: ShownId | None = Field(description="The user who placed it; null for an API key.")
    api_key_id: ShownId | None = None
    created_at: ShownTimestamp
    updated_at: ShownTimestamp

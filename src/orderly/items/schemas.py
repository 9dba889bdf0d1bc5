from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from orderly.core.ids import id_check, id_path
from orderly.core.money import (
    MAX_MAJOR_UNITS,
    MINOR_UNITS,
    MoneyError,
    check_amount_format,
    to_minor,
)
from orderly.core.money import minor_units as currency_minor_units
from orderly.core.schemas import (
    INT64_MAX,
    InputSchema,
    ReadSchema,
    ShownAmount,
    ShownCurrency,
    ShownId,
    ShownTimestamp,
    shown_integer,
    shown_text,
)
from orderly.items.exceptions import ItemNotFoundError

MAX_STOCK = 1_000_000_000

ItemId = Annotated[str, id_path("itm", "item"), id_check("itm", ItemNotFoundError)]


def _not_a_number(value: object) -> object:
    # A JSON number would reach us as a float (12.1 is not 12.10): refuse it by name
    # rather than with pydantic's bare "valid string" message.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "money_not_string",
            'Money is a decimal string such as "12.50", never a JSON number',
        )
    return value


def _amount(value: str) -> str:
    try:
        return check_amount_format(value)
    except MoneyError as exc:
        raise PydanticCustomError(exc.code, str(exc)) from None


def _currency(value: str) -> str:
    code = value.upper()
    try:
        currency_minor_units(code)
    except MoneyError as exc:
        raise PydanticCustomError(exc.code, str(exc)) from None
    return code


Sku = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Letters, digits, '.', '_' and '-'; 1-64 characters; unique per tenant.",
        examples=["MUG-001"],
        # What the pattern enforces, stated for clients (a second check would only
        # change which error a long SKU gets).
        json_schema_extra={"maxLength": 64},
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200, examples=["Coffee mug"])]
Description = Annotated[str, Field(max_length=2000, examples=["Stoneware, 350 ml."])]
Price = Annotated[
    str,
    BeforeValidator(_not_a_number),
    AfterValidator(_amount),
    Field(
        max_length=32,
        description="A decimal string with at most the currency's decimals "
        f'("12.50", "1200" for JPY), at most {MAX_MAJOR_UNITS}. Never a JSON number.',
        examples=["12.50"],
    ),
]
Currency = Annotated[
    str,
    Field(
        min_length=3,
        max_length=3,
        description="Active ISO 4217 code (any case; stored and shown upper-case).",
        examples=["USD"],
        json_schema_extra={"enum": sorted(MINOR_UNITS)},
    ),
    AfterValidator(_currency),
]
Stock = Annotated[
    int,
    Field(ge=0, le=MAX_STOCK, strict=True, examples=[100], json_schema_extra={"format": "int32"}),
]


class _PricedInput(InputSchema):
    """Checks a price's decimals against the currency sent alongside it. ``currency`` is
    declared before ``price`` so that it is validated first; without a valid currency
    there is nothing to check against."""

    currency: Currency | None = None
    price: Price | None = None

    @field_validator("price")
    @classmethod
    def _fits_currency(cls, price: str | None, info: ValidationInfo) -> str | None:
        currency = info.data.get("currency")
        if price is not None and currency is not None:
            try:
                to_minor(price, currency)
            except MoneyError as exc:
                raise PydanticCustomError(exc.code, str(exc)) from None
        return price


class ItemCreate(_PricedInput):
    sku: Sku
    name: Name
    description: Description | None = None
    currency: Currency
    price: Price
    stock: Stock


class ItemUpdate(_PricedInput):
    """Applied with ``exclude_unset``. A price is checked against the new currency when
    both are sent, otherwise against the item's (by the service)."""

    sku: Sku | None = None
    name: Name | None = None
    description: Description | None = Field(default=None, description="null clears it.")
    currency: Currency | None = None
    price: Price | None = None
    stock: Stock | None = None

    @field_validator("sku", "name", "currency", "price", "stock")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Optional so that they may be left out, not so that they may be cleared.
        if value is None:
            raise PydanticCustomError("not_nullable", "May be omitted, but not null")
        return value


class ItemRead(ReadSchema):
    id: ShownId
    sku: Annotated[str, shown_text(64)]
    name: Annotated[str, shown_text(200)]
    description: Annotated[str, shown_text(2000)] | None
    price: ShownAmount = Field(description="Decimal string with exactly the currency's decimals.")
    currency: ShownCurrency
    stock: Annotated[int, shown_integer(0, MAX_STOCK)]
    active: bool = Field(description="false once the item is archived (it can't be ordered).")
    version: Annotated[int, shown_integer(1, INT64_MAX)] = Field(
        description="Grows with every change; the ETag is derived from it."
    )
    created_at: ShownTimestamp
    updated_at: ShownTimestamp


@dataclass(frozen=True, slots=True)
class OrderableItem:
    """What an order line snapshots of an item (``ItemService.orderable``): read on every
    order, so a plain record, not a model."""

    id: str
    sku: str
    name: str
    price_minor: int
    currency: str

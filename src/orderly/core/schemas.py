"""Base schemas: one place for the pydantic configuration of every API model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from orderly.core.money import MINOR_UNITS


def no_nul(value: str | None) -> str | None:
    """Text may not hold U+0000: PostgreSQL refuses it in text columns and parameters
    (a 500 there, stored as is on SQLite), and no name, SKU or search needs it."""
    if value is not None and "\x00" in value:
        raise PydanticCustomError("null_character", "Must not contain the NUL character")
    return value


# For query, path and form parameters, which no base class covers:
# ``Annotated[str, Query(...), NoNul]``.
NoNul = AfterValidator(no_nul)


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error, so nobody can slip in ``role`` or
    ``tenant_id`` (mass assignment) and typos do not pass silently. No text field, of
    any subclass, may hold NUL (``no_nul``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: object) -> object:
        # Every field, so that a new text field cannot forget it; nested models check
        # their own fields, lists of text are checked item by item.
        if isinstance(value, str):
            no_nul(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    no_nul(item)
        return value


class ReadSchema(BaseModel):
    """Response bodies, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


# Bounds of response fields, for clients and contract testers (SPEC "Errors": bounds on
# every field). Documentation only: each value was bounded where it was written (input
# validation, id and token generators), so the way out checks nothing twice.
def shown_text(max_length: int, **schema: object) -> WithJsonSchema:
    """A served string of at most ``max_length`` characters."""
    return WithJsonSchema({"type": "string", "maxLength": max_length, **schema})


def shown_integer(minimum: int, maximum: int) -> WithJsonSchema:
    fmt = "int32" if minimum >= -(2**31) and maximum < 2**31 else "int64"
    return WithJsonSchema(
        {"type": "integer", "format": fmt, "minimum": minimum, "maximum": maximum}
    )


# ``<prefix>_`` + 24 characters of base32 (core.database.new_id).
ShownId = Annotated[str, shown_text(28, minLength=28, pattern="^[a-z]{3}_[0-9a-hjkmnp-tv-z]{24}$")]
# RFC 3339 as pydantic writes it: 2026-12-07T19:32:06.123456+00:00 is 32 characters.
ShownTimestamp = Annotated[datetime, shown_text(32, format="date-time")]
# Shapes of what the API writes: a decimal amount ("12.50"), an ISO 4217 code, a
# base64url token and a signed cursor or JWT (dot-separated base64url parts) are
# patterned where they are declared.
AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
CURRENCY_PATTERN = "^[A-Z]{3}$"
ShownAmount = Annotated[str, shown_text(32, pattern=AMOUNT_PATTERN)]
ShownCurrency = Annotated[
    str, shown_text(3, minLength=3, pattern=CURRENCY_PATTERN, enum=sorted(MINOR_UNITS))
]
# The largest signed 64-bit integer: counters and versions stored in BIGINT columns.
INT64_MAX = 2**63 - 1


TIMESTAMP_MAX = 64  # characters of an RFC 3339 date-time as sent; longer is refused


def _timestamp_not_too_long(value: object) -> object:
    """Bound a date-time sent as text before pydantic parses it (422, not a parse of 1 MiB)."""
    if isinstance(value, str) and len(value) > TIMESTAMP_MAX:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": TIMESTAMP_MAX},
        )
    return value


# An input date-time: bounded in length before parsing, and documented with that bound.
BOUNDED_TIMESTAMP = BeforeValidator(_timestamp_not_too_long)
TIMESTAMP_SCHEMA = {"type": "string", "format": "date-time", "maxLength": TIMESTAMP_MAX}

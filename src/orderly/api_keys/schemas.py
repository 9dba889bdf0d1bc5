from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from orderly.api_keys.exceptions import ApiKeyNotFoundError
from orderly.core.database import utcnow
from orderly.core.identity import Scope
from orderly.core.ids import id_check, id_path
from orderly.core.schemas import (
    BOUNDED_TIMESTAMP,
    TIMESTAMP_MAX,
    InputSchema,
    ReadSchema,
    ShownId,
    ShownTimestamp,
    shown_text,
)

ApiKeyId = Annotated[str, id_path("key", "API key"), id_check("key", ApiKeyNotFoundError)]


# Far enough for any integration, near enough that every database and the code hold it:
# 9999-12-31T23:59:59-23:59 is past year 9999 in UTC (an OverflowError, a 500).
MAX_KEY_LIFETIME = timedelta(days=3653)  # ten years


def _in_future(value: datetime | None) -> datetime | None:
    """Aware, in the future, at most ``MAX_KEY_LIFETIME`` ahead; returned in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("expires_at needs a timezone (e.g. 2027-01-01T00:00:00Z)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # its offset takes it past year 9999 (or before year 1)
        raise ValueError("expires_at is out of range") from None
    now = utcnow()
    if value <= now:
        raise ValueError("expires_at must be in the future")
    if value > now + MAX_KEY_LIFETIME:
        raise ValueError("expires_at must be at most ten years ahead")
    return value


# Scopes may be sent repeated (kept once); more than this many is no honest request.
MAX_SCOPES_SENT = 4 * len(Scope)


def _distinct(scopes: list[Scope]) -> list[Scope]:
    return sorted(set(scopes))


class ApiKeyCreate(InputSchema):
    name: str = Field(min_length=1, max_length=100, examples=["warehouse sync"])
    scopes: Annotated[list[Scope], AfterValidator(_distinct)] = Field(
        min_length=1,
        max_length=MAX_SCOPES_SENT,
        description="Repeats are kept once.",
        examples=[["read:items", "write:orders"]],
    )
    expires_at: Annotated[
        datetime | None,
        BOUNDED_TIMESTAMP,
        AfterValidator(_in_future),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "format": "date-time", "maxLength": TIMESTAMP_MAX},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(
        default=None,
        description="When the key stops working: in the future, at most ten "
        "years ahead, with a timezone. Omitted: never.",
    )


class ApiKeyRead(ReadSchema):
    id: ShownId
    name: Annotated[str, shown_text(100)]
    prefix: Annotated[str, shown_text(11, pattern="^sk_[A-Za-z0-9_-]{8}$")] = Field(
        description="The first characters of the key, to recognise it."
    )
    scopes: list[Scope] = Field(json_schema_extra={"maxItems": len(Scope)})
    expires_at: ShownTimestamp | None
    created_at: ShownTimestamp
    last_used_at: ShownTimestamp | None


class ApiKeyCreated(ApiKeyRead):
    key: Annotated[str, shown_text(64, pattern="^sk_[A-Za-z0-9_-]+$")] = Field(
        description="The raw key. Shown this once; store it now."
    )

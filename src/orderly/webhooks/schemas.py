from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from orderly.core.ids import id_check, id_path
from orderly.core.schemas import (
    BOUNDED_TIMESTAMP,
    TIMESTAMP_SCHEMA,
    InputSchema,
    ReadSchema,
    ShownId,
    ShownTimestamp,
    shown_integer,
    shown_text,
)
from orderly.webhooks.exceptions import DeliveryNotFoundError, WebhookNotFoundError
from orderly.webhooks.models import URL_LENGTH

WebhookId = Annotated[
    str, id_path("whk", "webhook endpoint"), id_check("whk", WebhookNotFoundError)
]
DeliveryId = Annotated[
    str, id_path("dlv", "webhook delivery"), id_check("dlv", DeliveryNotFoundError)
]
DeliveryStatus = Literal["pending", "succeeded", "failed"]

MAX_EVENT_TYPES = 50
# "order.created", "order.*", "*": a type, a family's wildcard, or everything.
EVENT_TYPE_FILTER = r"^(\*|[a-z][a-z_]{0,30}\.(\*|[a-z][a-z_]{0,30}))$"

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=URL_LENGTH,
        description="Where deliveries are POSTed: https (http outside production); its "
        "host must resolve to public addresses only.",
        examples=["https://hooks.example.com/orderly"],
    ),
]
EventTypeFilter = Annotated[
    str,
    Field(
        pattern=EVENT_TYPE_FILTER,
        max_length=64,
        description="An event type, `family.*` or `*`.",
        examples=["order.*"],
    ),
]
EventTypes = Annotated[list[EventTypeFilter], Field(min_length=1, max_length=MAX_EVENT_TYPES)]
Description = Annotated[str, Field(max_length=500, examples=["warehouse sync"])]


def _distinct(types: list[str]) -> list[str]:
    return sorted(set(types))


class WebhookCreate(InputSchema):
    url: Url
    event_types: Annotated[EventTypes, AfterValidator(_distinct)] = Field(
        examples=[["order.*", "item.stock_low"]]
    )
    description: Description | None = None


class WebhookUpdate(InputSchema):
    """Applied with ``exclude_unset``. ``enabled: true`` also clears the failure count
    and ``disabled_reason`` of an auto-disabled endpoint."""

    url: Url | None = None
    event_types: Annotated[EventTypes, AfterValidator(_distinct)] | None = None
    enabled: bool | None = None
    description: Description | None = Field(default=None, description="null clears it.")

    @field_validator("url", "event_types", "enabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("not_nullable", "May be omitted, but not null")
        return value


ShownSecret = Annotated[str, shown_text(64, pattern="^whsec_[A-Za-z0-9+/=]+$")]
ShownCount = Annotated[int, shown_integer(0, 2**31 - 1)]


class WebhookRead(ReadSchema):
    id: ShownId
    url: Annotated[str, shown_text(URL_LENGTH)]
    description: Annotated[str, shown_text(500)] | None
    event_types: Annotated[list[Annotated[str, shown_text(64)]], Field(max_length=MAX_EVENT_TYPES)]
    enabled: bool
    disabled_reason: Annotated[str, shown_text(200)] | None = Field(
        description="Why it was disabled automatically."
    )
    previous_secret_expires_at: ShownTimestamp | None = Field(
        description="Until then, deliveries are signed with the previous secret too."
    )
    created_at: ShownTimestamp
    updated_at: ShownTimestamp


class WebhookCreated(WebhookRead):
    secret: ShownSecret = Field(description="The signing secret (`whsec_...`). Shown this once.")


class WebhookSecret(ReadSchema):
    secret: ShownSecret = Field(
        description="The new signing secret (`whsec_...`). Shown this once."
    )
    previous_secret_expires_at: ShownTimestamp = Field(
        description="Until then, every delivery carries both signatures."
    )


class WebhookTestQueued(ReadSchema):
    endpoint_id: ShownId
    event_type: Literal["webhook.test"] = "webhook.test"


class WebhookTestData(InputSchema):
    """The ``data`` of a ``webhook.test`` event."""

    endpoint_id: str
    message: str = "This is a test event from Orderly."


class AttemptRead(ReadSchema):
    at: ShownTimestamp
    response_status: Annotated[int, shown_integer(100, 599)] | None = Field(
        description="The receiver's HTTP status, if it answered."
    )
    duration_ms: ShownCount
    error: Annotated[str, shown_text(500)] | None


class DeliveryRead(ReadSchema):
    id: ShownId
    event_id: ShownId = Field(description="Also the `webhook-id` header of every attempt.")
    event_type: Annotated[str, shown_text(64)]
    status: DeliveryStatus
    attempts: ShownCount
    last_attempt: AttemptRead | None
    next_attempt_at: ShownTimestamp | None
    created_at: ShownTimestamp


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("since needs a timezone (e.g. 2027-01-01T00:00:00Z)")
    return value.astimezone(UTC)


class RecoverRequest(InputSchema):
    since: Annotated[
        datetime,
        BOUNDED_TIMESTAMP,
        AfterValidator(_aware),
        WithJsonSchema(TIMESTAMP_SCHEMA),
    ] = Field(description="Failed deliveries created at or after this time are queued again.")


class RecoverQueued(ReadSchema):
    count: ShownCount = Field(description="How many failed deliveries were queued again.")

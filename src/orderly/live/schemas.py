"""The event object (the same on every channel) and the live routes' bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, JsonValue

from orderly.core.schemas import InputSchema, ShownId, ShownTimestamp, shown_integer, shown_text


class EventRead(BaseModel):
    id: ShownId = Field(description="`evt_…`: stable, also the `webhook-id` of its deliveries.")
    seq: Annotated[int, shown_integer(1, 2**63 - 1)] = Field(
        description="Per-tenant position; grows in commit order."
    )
    type: Annotated[str, shown_text(64)] = Field(examples=["order.created"])
    created_at: ShownTimestamp
    data: dict[str, JsonValue] = Field(
        description="The resource as the REST API shows it after the change."
    )


class EventPage(BaseModel):
    items: Annotated[list[EventRead], Field(max_length=100)]
    next_cursor: Annotated[str, shown_text(20, pattern="^[0-9]+$")] | None = Field(
        description="Pass as `after` for the next page; null when this page reached the "
        "newest event (then continue from the last item's `seq`)."
    )


class TicketRead(BaseModel):
    ticket: Annotated[str, shown_text(64)] = Field(
        description="Connect with `GET /api/v1/ws?ticket=…`; single use."
    )
    expires_in: Annotated[int, shown_integer(1, 3600)] = Field(
        description="Seconds the ticket stays usable.", examples=[30]
    )


class TicketCreate(InputSchema):
    """No fields: the ticket acts for the caller that asked for it."""

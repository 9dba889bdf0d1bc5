"""The event object (the same on every channel) and the live routes' bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, JsonValue

from orderly.core.schemas import InputSchema


class EventRead(BaseModel):
    id: str = Field(description="`evt_…`: stable, also the `webhook-id` of its deliveries.")
    seq: int = Field(description="Per-tenant position; grows in commit order.")
    type: str = Field(examples=["order.created"])
    created_at: datetime
    data: dict[str, JsonValue] = Field(
        description="The resource as the REST API shows it after the change."
    )


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None = Field(
        description="Pass as `after` for the next page; null when this page reached the "
        "newest event (then continue from the last item's `seq`)."
    )


class TicketRead(BaseModel):
    ticket: str = Field(description="Connect with `GET /api/v1/ws?ticket=…`; single use.")
    expires_in: int = Field(description="Seconds the ticket stays usable.", examples=[30])


class TicketCreate(InputSchema):
    """No fields: the ticket acts for the caller that asked for it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from orderly.core.ids import id_check, id_path
from orderly.core.schemas import (
    BOUNDED_TIMESTAMP,
    TIMESTAMP_MAX,
    InputSchema,
    ReadSchema,
    ShownId,
    ShownTimestamp,
    shown_integer,
    shown_text,
)
from orderly.exports.exceptions import ExportNotFoundError
from orderly.orders.states import OrderStatus

ExportId = Annotated[str, id_path("exp", "export"), id_check("exp", ExportNotFoundError)]
ExportKind = Literal["orders_csv"]
MAX_ROWS = 2**31 - 1


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED = frozenset({ExportStatus.SUCCEEDED, ExportStatus.FAILED})


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("needs a timezone (e.g. 2027-01-01T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # its offset takes it past year 9999 (or before year 1)
        raise ValueError("is out of range") from None


WindowEdge = Annotated[
    datetime | None,
    BOUNDED_TIMESTAMP,
    AfterValidator(_aware),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "maxLength": TIMESTAMP_MAX},
                {"type": "null"},
            ]
        }
    ),
]


class ExportCreate(InputSchema):
    kind: ExportKind = Field(description="What to export: `orders_csv`, the orders as CSV.")
    status: OrderStatus | None = Field(default=None, description="Only orders in this state.")
    created_after: WindowEdge = Field(
        default=None, description="Only orders placed at or after this time."
    )
    created_before: WindowEdge = Field(
        default=None, description="Only orders placed before this time."
    )

    @model_validator(mode="after")
    def _window_is_not_empty(self) -> ExportCreate:
        after, before = self.created_after, self.created_before
        if after is not None and before is not None and after >= before:
            raise ValueError("created_after must be before created_before")
        return self


class ExportRead(ReadSchema):
    id: ShownId
    kind: ExportKind
    status: ExportStatus
    progress: Annotated[int, shown_integer(0, 100)] = Field(description="Percent done, 0-100.")
    rows: Annotated[int, shown_integer(0, MAX_ROWS)] = Field(
        description="CSV data rows written so far (one per order line)."
    )
    error: Annotated[str, shown_text(500)] | None = Field(
        description="Why it failed; null unless `failed`."
    )
    download_url: Annotated[str, shown_text(64, format="uri-reference")] | None = Field(
        description="Where to download the file; null until `succeeded`."
    )
    created_at: ShownTimestamp
    expires_at: ShownTimestamp = Field(
        description="The export and its file are deleted then (24 h after creation)."
    )


class ExportProgress(ReadSchema):
    """The data of an SSE `progress` event."""

    status: ExportStatus
    progress: Annotated[int, shown_integer(0, 100)]
    rows: Annotated[int, shown_integer(0, MAX_ROWS)]

"""Errors of the live-events routes.

ValidationFailedError (422)
├── InvalidTypeFilterError (INVALID_EVENT_TYPE_FILTER)
└── InvalidLastEventIdError (INVALID_LAST_EVENT_ID)
InsufficientScopeError (403 INSUFFICIENT_SCOPE, core.errors)
└── NoVisibleEventsError: the caller may see no event type at all
"""

from __future__ import annotations

from orderly.core.errors import (
    FieldError,
    ForbiddenError,
    InsufficientScopeError,
    ValidationFailedError,
)


class InvalidTypeFilterError(ValidationFailedError):
    code = "INVALID_EVENT_TYPE_FILTER"
    default_detail = (
        "`type` takes event types or `*` patterns (`order.*`), comma-separated, "
        "at most 20 of them."
    )

    def __init__(self, field: str = "query.type") -> None:
        super().__init__(errors=[FieldError(field, self.default_detail, "invalid_type_filter")])


class InvalidLastEventIdError(ValidationFailedError):
    code = "INVALID_LAST_EVENT_ID"
    default_detail = "`Last-Event-ID` must be the `id` (a seq number) of an event received."

    def __init__(self) -> None:
        super().__init__(
            errors=[FieldError("header.last-event-id", self.default_detail, "invalid_seq")]
        )


class NoVisibleEventsError(InsufficientScopeError):
    """The caller may see no event type at all (SPEC: 403 ``INSUFFICIENT_SCOPE``)."""

    default_detail = (
        "This API key may see no event type: order events need 'read:orders', item "
        "events 'read:items'."
    )

    def __init__(self) -> None:
        ForbiddenError.__init__(self, self.default_detail)

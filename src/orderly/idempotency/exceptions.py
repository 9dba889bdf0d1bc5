"""Idempotency errors, and the replay signal.

    ValidationFailedError (422)
    ├── IdempotencyKeyInvalidError (IDEMPOTENCY_KEY_INVALID)
    └── IdempotencyKeyReusedError (IDEMPOTENCY_KEY_REUSED)
    ConflictError (409)
    └── IdempotencyInProgressError (IDEMPOTENCY_IN_PROGRESS, Retry-After: 1)
    ServiceUnavailableError (503)
    └── IdempotencyUnavailableError (IDEMPOTENCY_UNAVAILABLE, Retry-After: 1)

``IdempotentReplay`` is not an error: it carries the stored response out of the
dependency to the handler that sends it.
"""

from __future__ import annotations

from orderly.core.errors import (
    ConflictError,
    FieldError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from orderly.idempotency.schemas import StoredResponse


class IdempotencyKeyInvalidError(ValidationFailedError):
    code = "IDEMPOTENCY_KEY_INVALID"
    default_detail = "The Idempotency-Key header is empty or too long."

    def __init__(self, length: int, max_length: int) -> None:
        message = f"Idempotency-Key must be 1 to {max_length} characters long, not {length}."
        field_code = "string_too_short" if length < 1 else "string_too_long"
        super().__init__(
            message, errors=[FieldError("header.idempotency-key", message, field_code)]
        )


class IdempotencyKeyReusedError(ValidationFailedError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_detail = "This Idempotency-Key was already used with a different request."


class IdempotencyInProgressError(ConflictError):
    code = "IDEMPOTENCY_IN_PROGRESS"
    default_detail = "A request with this Idempotency-Key is still being processed."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


class IdempotencyUnavailableError(ServiceUnavailableError):
    """The key cannot be checked (its store does not answer), so the request is refused
    before it runs: a duplicate order is worse than a refused retry (SPEC)."""

    code = "IDEMPOTENCY_UNAVAILABLE"
    default_detail = (
        "Idempotency keys cannot be checked right now, so the request was not run; "
        "retry shortly with the same key."
    )

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


# What an idempotent route (``dependencies=[IDEMPOTENT]``) can answer besides its own.
IDEMPOTENCY_ERRORS = (
    IdempotencyInProgressError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyReusedError,
)


class IdempotentReplay(Exception):
    def __init__(self, record: StoredResponse) -> None:
        self.record = record
        super().__init__("idempotent replay")

"""Domain errors: what went wrong, said once, rendered as problem+json by one handler.

    AppError (500 INTERNAL_ERROR)
    ├── BadRequestError (400 BAD_REQUEST)
    ├── UnauthorizedError (401 UNAUTHORIZED, WWW-Authenticate: Bearer)
    ├── PaymentRequiredError (402 PLAN_UPGRADE_REQUIRED)
    ├── ForbiddenError (403 FORBIDDEN)
    │   └── InsufficientScopeError (403 INSUFFICIENT_SCOPE)
    ├── NotFoundError (404 NOT_FOUND; subclasses name the resource: ORDER_NOT_FOUND, …)
    ├── ConflictError (409 CONFLICT)
    ├── PreconditionFailedError (412 PRECONDITION_FAILED)
    ├── PayloadTooLargeError (413 PAYLOAD_TOO_LARGE)
    ├── ValidationFailedError (422 VALIDATION_ERROR, with field errors)
    ├── BusinessRuleError (422 BUSINESS_RULE_VIOLATION)
    ├── RateLimitedError (429 RATE_LIMITED)
    ├── ExternalServiceError (502 EXTERNAL_SERVICE_ERROR)
    └── ServiceUnavailableError (503 SERVICE_UNAVAILABLE)

Services raise these; they never import FastAPI. Packages subclass them in their own
``exceptions.py`` with a more precise ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    code: str


class AppError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    default_detail: str = "An unexpected error occurred."
    # Errors normally roll the request's transaction back. A few must keep what was
    # done before they were raised (revoking a stolen refresh token's family).
    persist_changes: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldError] = (),
    ) -> None:
        self.detail = detail or self.default_detail
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})
        self.errors = list(errors)
        super().__init__(self.detail)


class BadRequestError(AppError):
    status = 400
    code = "BAD_REQUEST"
    default_detail = "The request could not be understood."


class InvalidHostError(BadRequestError):
    """Answered by the allowed-hosts middleware, before routing."""

    code = "INVALID_HOST"
    default_detail = "The Host header is not one this service answers to."


class HeaderFieldsTooLargeError(AppError):
    """Answered by the server's HTTP protocol (``core/http_protocol.py``), before routing."""

    status = 431
    code = "REQUEST_HEADER_FIELDS_TOO_LARGE"
    default_detail = "A header line is longer than 8 KiB, or the request head than 32 KiB."


class UnauthorizedError(AppError):
    status = 401
    code = "UNAUTHORIZED"
    default_detail = "Authentication credentials were missing or invalid."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class PaymentRequiredError(AppError):
    status = 402
    code = "PLAN_UPGRADE_REQUIRED"
    default_detail = "This feature is not included in the tenant's plan."


class ForbiddenError(AppError):
    status = 403
    code = "FORBIDDEN"
    default_detail = "You do not have permission to perform this action."


class InsufficientScopeError(ForbiddenError):
    code = "INSUFFICIENT_SCOPE"
    default_detail = "This API key lacks the scope this action needs."

    def __init__(self, scope: str) -> None:
        super().__init__(f"This API key lacks the '{scope}' scope.")


class NotFoundError(AppError):
    status = 404
    code = "NOT_FOUND"
    resource = "Resource"

    def __init__(self, identifier: str | None = None, *, detail: str | None = None) -> None:
        if detail is None:
            detail = (
                f"{self.resource} '{identifier}' was not found"
                if identifier is not None
                else f"{self.resource} was not found"
            )
        super().__init__(detail)


class ConflictError(AppError):
    status = 409
    code = "CONFLICT"
    default_detail = "The request conflicts with the current state of the resource."


class PreconditionFailedError(AppError):
    status = 412
    code = "PRECONDITION_FAILED"
    default_detail = "The resource has changed since you last read it (If-Match failed)."


class PayloadTooLargeError(AppError):
    """A request body over ``APP_MAX_BODY_BYTES``, counted while it streams."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_detail = "The request body is larger than this service accepts."


class ValidationFailedError(AppError):
    status = 422
    code = "VALIDATION_ERROR"
    default_detail = "The request contains invalid fields."


class BusinessRuleError(AppError):
    status = 422
    code = "BUSINESS_RULE_VIOLATION"
    default_detail = "The request breaks a business rule."


class RateLimitedError(AppError):
    status = 429
    code = "RATE_LIMITED"
    default_detail = "Too many requests; retry later."


class ExternalServiceError(AppError):
    status = 502
    code = "EXTERNAL_SERVICE_ERROR"
    default_detail = "An upstream service failed."


class ServiceUnavailableError(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_detail = "The service is temporarily unavailable; retry later."

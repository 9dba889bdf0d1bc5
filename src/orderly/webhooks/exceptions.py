"""Errors of the webhooks domain.

NotFoundError (404)
├── WebhookNotFoundError (WEBHOOK_NOT_FOUND)
└── DeliveryNotFoundError (WEBHOOK_DELIVERY_NOT_FOUND)
ValidationFailedError (422)
└── WebhookUrlNotAllowedError (WEBHOOK_URL_NOT_ALLOWED)
"""

from __future__ import annotations

from orderly.core.errors import FieldError, NotFoundError, ValidationFailedError


class WebhookNotFoundError(NotFoundError):
    code = "WEBHOOK_NOT_FOUND"
    resource = "Webhook endpoint"


class DeliveryNotFoundError(NotFoundError):
    code = "WEBHOOK_DELIVERY_NOT_FOUND"
    resource = "Webhook delivery"


class WebhookUrlNotAllowedError(ValidationFailedError):
    code = "WEBHOOK_URL_NOT_ALLOWED"
    default_detail = (
        "The webhook URL is not allowed: it must be http(s) (https in production) and its "
        "host must resolve to public addresses only."
    )

    def __init__(self, reason: str | None = None) -> None:
        message = reason or "not allowed"
        super().__init__(
            f"The webhook URL is not allowed: {message}.",
            errors=[FieldError("body.url", message, "url_not_allowed")],
        )

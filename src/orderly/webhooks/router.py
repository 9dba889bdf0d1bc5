"""``/api/v1/webhooks``: endpoints, their secrets, tests and delivery log (SPEC
"Webhooks"). Responses carrying a secret are ``Cache-Control: no-store`` and, like a new
API key's, are not kept for ``Idempotency-Key`` replays (the store would hold the
secret in clear)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from orderly.core.access import SCOPE_GUARD_ERRORS
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.responses import problems
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.tenants.exceptions import PlanLimitReachedError
from orderly.webhooks.dependencies import WebhooksManageService
from orderly.webhooks.exceptions import (
    DeliveryNotFoundError,
    WebhookNotFoundError,
    WebhookUrlNotAllowedError,
)
from orderly.webhooks.schemas import (
    AttemptRead,
    DeliveryId,
    DeliveryRead,
    DeliveryStatus,
    RecoverQueued,
    RecoverRequest,
    WebhookCreate,
    WebhookCreated,
    WebhookId,
    WebhookRead,
    WebhookSecret,
    WebhookTestQueued,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

NO_STORE = "no-store"
EventTypeQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z][a-z_]{0,30}\.[a-z][a-z_]{0,30}$",
        description="Only deliveries of this event type.",
    ),
]
StatusQuery = Annotated[DeliveryStatus | None, Query(description="Only deliveries in this state.")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a webhook endpoint (its secret is in this response only)",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookUrlNotAllowedError, PlanLimitReachedError),
)
async def create_webhook(
    body: WebhookCreate, webhooks: WebhooksManageService, request: Request, response: Response
) -> WebhookCreated:
    created = await webhooks.create(body)
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Location"] = str(
        request.app.url_path_for("get_webhook", endpoint_id=created.id)
    )
    return created


@router.get(
    "",
    summary="List webhook endpoints, newest first",
    responses=problems(*SCOPE_GUARD_ERRORS, InvalidCursorError),
)
async def list_webhooks(
    webhooks: WebhooksManageService, limit: Limit = 20, cursor: Cursor = None
) -> Page[WebhookRead]:
    return await webhooks.list(limit=limit, cursor=cursor)


@router.get(
    "/{endpoint_id}",
    summary="One webhook endpoint (never its secret)",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError),
)
async def get_webhook(endpoint_id: WebhookId, webhooks: WebhooksManageService) -> WebhookRead:
    return WebhookRead.model_validate(await webhooks.get(endpoint_id))


@router.patch(
    "/{endpoint_id}",
    summary="Change a webhook endpoint (url, event_types, enabled, description)",
    responses=problems(
        *SCOPE_GUARD_ERRORS, WebhookNotFoundError, WebhookUrlNotAllowedError, *IDEMPOTENCY_ERRORS
    ),
    dependencies=[IDEMPOTENT],
)
async def update_webhook(
    endpoint_id: WebhookId, body: WebhookUpdate, webhooks: WebhooksManageService
) -> WebhookRead:
    return WebhookRead.model_validate(await webhooks.update(endpoint_id, body))


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint and its delivery log",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError),
)
async def delete_webhook(endpoint_id: WebhookId, webhooks: WebhooksManageService) -> None:
    await webhooks.delete(endpoint_id)


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Replace the signing secret (the old one signs too for 24 h)",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError),
)
async def rotate_webhook_secret(
    endpoint_id: WebhookId, webhooks: WebhooksManageService, response: Response
) -> WebhookSecret:
    rotated = await webhooks.rotate_secret(endpoint_id)
    response.headers["Cache-Control"] = NO_STORE
    return rotated


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a webhook.test event to this endpoint only",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError, *IDEMPOTENCY_ERRORS),
    dependencies=[IDEMPOTENT],
)
async def test_webhook(
    endpoint_id: WebhookId, webhooks: WebhooksManageService
) -> WebhookTestQueued:
    return await webhooks.send_test(endpoint_id)


@router.get(
    "/{endpoint_id}/deliveries",
    summary="The endpoint's deliveries, newest first",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError, InvalidCursorError),
)
async def list_deliveries(
    endpoint_id: WebhookId,
    webhooks: WebhooksManageService,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: StatusQuery = None,
    event_type: EventTypeQuery = None,
) -> Page[DeliveryRead]:
    return await webhooks.list_deliveries(
        endpoint_id, status=status, event_type=event_type, limit=limit, cursor=cursor
    )


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}/attempts",
    summary="Every attempt at one delivery, newest first",
    responses=problems(
        *SCOPE_GUARD_ERRORS, WebhookNotFoundError, DeliveryNotFoundError, InvalidCursorError
    ),
)
async def list_attempts(
    endpoint_id: WebhookId,
    delivery_id: DeliveryId,
    webhooks: WebhooksManageService,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[AttemptRead]:
    return await webhooks.list_attempts(endpoint_id, delivery_id, limit=limit, cursor=cursor)


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again (a fresh retry schedule)",
    responses=problems(
        *SCOPE_GUARD_ERRORS, WebhookNotFoundError, DeliveryNotFoundError, *IDEMPOTENCY_ERRORS
    ),
    dependencies=[IDEMPOTENT],
)
async def redeliver(
    endpoint_id: WebhookId, delivery_id: DeliveryId, webhooks: WebhooksManageService
) -> DeliveryRead:
    return await webhooks.redeliver(endpoint_id, delivery_id)


@router.post(
    "/{endpoint_id}/recover",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue again every delivery that failed since a time",
    responses=problems(*SCOPE_GUARD_ERRORS, WebhookNotFoundError, *IDEMPOTENCY_ERRORS),
    dependencies=[IDEMPOTENT],
)
async def recover(
    endpoint_id: WebhookId, body: RecoverRequest, webhooks: WebhooksManageService
) -> RecoverQueued:
    return await webhooks.recover(endpoint_id, body.since)

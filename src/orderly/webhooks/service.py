"""Webhook endpoints and their delivery log, for the staff (or a ``manage:webhooks``
key) of the caller's tenant.

Secrets are generated here and shown once (create, rotate); only their seal is kept.
A URL is checked by the SSRF guard whenever it is saved (``UrlGuard``), and again by
the delivery job before every attempt.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.pagination import CURSORS, Page
from orderly.core.unit_of_work import UnitOfWork
from orderly.events.types import EventType
from orderly.tenants.gate import PLAN_GATE
from orderly.webhooks.addresses import UrlGuard
from orderly.webhooks.exceptions import DeliveryNotFoundError, WebhookNotFoundError
from orderly.webhooks.models import WebhookDelivery, WebhookEndpoint
from orderly.webhooks.policy import (
    DELIVER_JOB,
    SECRET_OVERLAP,
    WEBHOOK_POLICY,
    WEBHOOK_RESOLVER,
    WEBHOOK_SECRETS,
)
from orderly.webhooks.repository import (
    AttemptRepository,
    DeliveryRepository,
    EndpointRepository,
    count_endpoints,
)
from orderly.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    RecoverQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookTestData,
    WebhookTestQueued,
    WebhookUpdate,
)
from orderly.webhooks.sealing import generate_secret

ENDPOINTS_CURSOR = "webhooks"
DELIVERIES_CURSOR = "webhook-deliveries"
ATTEMPTS_CURSOR = "webhook-attempts"


def delivery_read(row: WebhookDelivery) -> DeliveryRead:
    last = None
    if row.last_attempt_at is not None:
        last = AttemptRead(
            at=row.last_attempt_at,
            response_status=row.last_response_status,
            duration_ms=row.last_duration_ms or 0,
            error=row.last_error,
        )
    return DeliveryRead.model_validate(
        {
            "id": row.id,
            "event_id": row.event_id,
            "event_type": row.event_type,
            "status": row.status,
            "attempts": row.attempts,
            "last_attempt": last,
            "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
            "created_at": row.created_at,
        }
    )


class WebhookService:
    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.tenant_id = uow.principal.tenant_id
        self.cursors = parts[CURSORS]
        self.secrets = parts[WEBHOOK_SECRETS]
        self.guard = UrlGuard(parts[WEBHOOK_RESOLVER], parts[WEBHOOK_POLICY].url)
        self.plans = parts[PLAN_GATE]
        self.repo = EndpointRepository(uow.session, self.tenant_id)
        self.deliveries = DeliveryRepository(uow.session, self.tenant_id)
        self.attempts = AttemptRepository(uow.session, self.tenant_id)

    # Endpoints

    async def create(self, data: WebhookCreate) -> WebhookCreated:
        await self.guard.check(data.url)
        # Locks the tenant's row, then counts: two creations at the limit cannot both pass.
        await self.plans.check_count(self.uow, "webhook_endpoints", count_endpoints)
        endpoint_id = new_id("whk")
        secret = generate_secret()
        endpoint = await self.repo.add(
            WebhookEndpoint(
                id=endpoint_id,
                url=data.url,
                description=data.description,
                event_types=list(data.event_types),
                enabled=True,
                sealed_secret=self.secrets.seal(secret, endpoint_id=endpoint_id),
                consecutive_failures=0,
            )
        )
        return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)

    async def list(self, *, limit: int, cursor: str | None) -> Page[WebhookRead]:
        fetch = partial(self.repo.page, self.repo.scoped())
        rows, next_cursor = await self.cursors.page(
            ENDPOINTS_CURSOR, fetch, limit=limit, cursor=cursor
        )
        return Page[WebhookRead](
            items=[WebhookRead.model_validate(row) for row in rows], next_cursor=next_cursor
        )

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.repo.get(endpoint_id)
        if endpoint is None:
            raise WebhookNotFoundError(endpoint_id)
        return endpoint

    async def update(self, endpoint_id: str, data: WebhookUpdate) -> WebhookEndpoint:
        endpoint = await self.get(endpoint_id)
        changes = data.model_dump(exclude_unset=True)
        if "url" in changes and changes["url"] != endpoint.url:
            await self.guard.check(str(changes["url"]))
        if changes.get("enabled") is True and not endpoint.enabled:
            # Re-enabled by a person: the failures that disabled it are forgiven.
            endpoint.disabled_reason = None
            endpoint.consecutive_failures = 0
            endpoint.failing_since = None
        for field, value in changes.items():
            setattr(endpoint, field, value)
        endpoint.updated_at = utcnow()
        await self.uow.session.flush()
        return endpoint

    async def delete(self, endpoint_id: str) -> None:
        endpoint = await self.get(endpoint_id)
        await self.uow.session.delete(endpoint)
        await self.uow.session.flush()

    async def rotate_secret(self, endpoint_id: str) -> WebhookSecret:
        """A new secret; the current one keeps signing beside it for ``SECRET_OVERLAP``
        (receivers switch over without losing a delivery)."""
        endpoint = await self.get(endpoint_id)
        now = utcnow()
        secret = generate_secret()
        endpoint.sealed_previous_secret = endpoint.sealed_secret
        endpoint.previous_secret_expires_at = now + SECRET_OVERLAP
        endpoint.sealed_secret = self.secrets.seal(secret, endpoint_id=endpoint.id)
        endpoint.updated_at = now
        await self.uow.session.flush()
        return WebhookSecret(secret=secret, previous_secret_expires_at=now + SECRET_OVERLAP)

    async def send_test(self, endpoint_id: str) -> WebhookTestQueued:
        """A ``webhook.test`` event through the outbox, about this endpoint: the sink
        routes it to this endpoint only, whatever the others' filters."""
        endpoint = await self.get(endpoint_id)
        await self.uow.record_event(
            EventType.WEBHOOK_TEST,
            tenant_id=self.tenant_id,
            subject_id=endpoint.id,
            payload=WebhookTestData(endpoint_id=endpoint.id),
        )
        return WebhookTestQueued(endpoint_id=endpoint.id)

    # The delivery log

    async def list_deliveries(
        self,
        endpoint_id: str,
        *,
        status: str | None,
        event_type: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[DeliveryRead]:
        # The cursor is bound to the endpoint: it cannot be carried to another's log.
        kind = f"{DELIVERIES_CURSOR}:{endpoint_id}"
        if cursor:  # a malformed cursor is a 422 whether the endpoint exists or not
            self.cursors.decode(kind, cursor)
        await self.get(endpoint_id)
        stmt = self.deliveries.of_endpoint(endpoint_id, status=status, event_type=event_type)
        fetch = partial(self.deliveries.page, stmt)
        rows, next_cursor = await self.cursors.page(kind, fetch, limit=limit, cursor=cursor)
        return Page[DeliveryRead](
            items=[delivery_read(row) for row in rows], next_cursor=next_cursor
        )

    async def get_delivery(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
        delivery = await self.deliveries.get_of_endpoint(endpoint_id, delivery_id)
        if delivery is None:
            await self.get(endpoint_id)  # an unknown endpoint is named as such
            raise DeliveryNotFoundError(delivery_id)
        return delivery

    async def list_attempts(
        self, endpoint_id: str, delivery_id: str, *, limit: int, cursor: str | None
    ) -> Page[AttemptRead]:
        kind = f"{ATTEMPTS_CURSOR}:{delivery_id}"
        if cursor:  # a malformed cursor is a 422 whether the delivery exists or not
            self.cursors.decode(kind, cursor)
        await self.get_delivery(endpoint_id, delivery_id)
        fetch = partial(self.attempts.page, self.attempts.of_delivery(delivery_id))
        rows, next_cursor = await self.cursors.page(kind, fetch, limit=limit, cursor=cursor)
        items = [
            AttemptRead(
                at=row.created_at,
                response_status=row.response_status,
                duration_ms=row.duration_ms,
                error=row.error,
            )
            for row in rows
        ]
        return Page[AttemptRead](items=items, next_cursor=next_cursor)

    async def redeliver(self, endpoint_id: str, delivery_id: str) -> DeliveryRead:
        """Send the delivery again (whatever its status), with a fresh retry schedule."""
        delivery = await self.get_delivery(endpoint_id, delivery_id)
        await self.deliveries.requeue(delivery.id, utcnow())
        await self.uow.session.refresh(delivery)
        self.uow.enqueue_job(DELIVER_JOB, delivery_id=delivery.id)
        return delivery_read(delivery)

    async def recover(self, endpoint_id: str, since: datetime) -> RecoverQueued:
        """Queue again every delivery of the endpoint that failed for good since
        ``since`` (after the receiver's outage)."""
        await self.get(endpoint_id)
        ids = await self.deliveries.requeue_failed(endpoint_id, since, utcnow())
        for delivery_id in ids:
            self.uow.enqueue_job(DELIVER_JOB, delivery_id=delivery_id)
        return RecoverQueued(count=len(ids))

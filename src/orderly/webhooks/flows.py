"""What happens to an event on its way out: the sink that turns published events into
deliveries, the delivery job, and the periodic sweep and purge.

A delivery is sent in three steps, so that no database transaction is open while a
receiver is waited for:

1. **lease** (own unit of work, committed): one conditional UPDATE claims the pending,
   due, unheld delivery until ``now + timeout + margin``; the endpoint's URL and secrets
   are read;
2. **send** (no transaction): the URL is checked again (resolve, classify every
   address) and the body POSTed to the checked address;
3. **outcome** (a new unit): the attempt is recorded; the delivery succeeds, or is
   scheduled again (a delayed job, after the schedule's delay with jitter), or fails
   for good; the endpoint's failure count moves, and may disable it.

A worker killed between 1 and 3 leaves a lease that runs out; the sweeper queues the
delivery again. Two workers never send one delivery at once: only one gets the lease.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic_core import to_json

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.jobs import JOBS, Job
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.events.sinks import PublishedEvent
from orderly.events.types import EventType
from orderly.webhooks import repository as repo
from orderly.webhooks.addresses import UrlGuard
from orderly.webhooks.exceptions import WebhookUrlNotAllowedError
from orderly.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orderly.webhooks.policy import (
    DELIVER_JOB,
    DISABLE_AFTER_FAILING_FOR,
    DISABLE_AFTER_FAILURES,
    LOG_RETENTION,
    WEBHOOK_POLICY,
    WEBHOOK_RESOLVER,
    WEBHOOK_SECRETS,
    WEBHOOK_SENDER,
)
from orderly.webhooks.sealing import SecretUnreadableError
from orderly.webhooks.sender import SendResult

logger = structlog.get_logger("orderly.webhooks")

# A job may run a little before the time it was meant for (clocks of two machines).
DUE_TOLERANCE = timedelta(seconds=1)
SWEEP_BATCH = 1000


def matches(filters: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``filters`` wants ``event_type``."""
    for pattern in filters:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def routed(event: PublishedEvent, endpoint: WebhookEndpoint) -> bool:
    if event.type == EventType.WEBHOOK_TEST:
        return event.subject_id == endpoint.id  # a test goes to its endpoint only
    return matches(endpoint.event_types, event.type)


class WebhookSink:
    """The ``EventSink`` of webhooks: in the relay's unit of work, a delivery row for
    every enabled endpoint whose filters match, and its job once that unit commits."""

    async def __call__(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        by_tenant: dict[str, list[PublishedEvent]] = defaultdict(list)
        for event in events:
            by_tenant[event.tenant_id].append(event)
        now = utcnow()
        rows: list[dict[str, object]] = []
        for tenant_id, tenant_events in by_tenant.items():
            endpoints = await repo.enabled_endpoints(uow.session, tenant_id)
            for event in tenant_events:
                body: str | None = None
                for endpoint in endpoints:
                    if not routed(event, endpoint):
                        continue
                    body = body or to_json(event.as_object()).decode()
                    rows.append(_delivery_row(event, endpoint.id, body, now))
        if not rows:
            return
        await repo.insert_deliveries(uow.session, rows)
        for row in rows:
            uow.enqueue_job(DELIVER_JOB, delivery_id=row["id"])


def _delivery_row(
    event: PublishedEvent, endpoint_id: str, body: str, now: datetime
) -> dict[str, object]:
    return {
        "id": new_id("dlv"),
        "tenant_id": event.tenant_id,
        "endpoint_id": endpoint_id,
        "event_id": event.id,
        "event_type": event.type,
        "body": body,
        "status": repo.PENDING,
        "attempts": 0,
        "scheduled_attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True, slots=True)
class Claim:
    """A leased delivery and what sending it needs."""

    delivery: repo.LeasedDelivery
    token: str
    url: str
    secrets: tuple[str, ...]


class DeliveryRun:
    """The ``webhooks.deliver`` job: idempotent (a delivery that is not pending, not
    due, or held by another worker is left alone)."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.policy = container[WEBHOOK_POLICY]
        self.box = container[WEBHOOK_SECRETS]
        self.sender = container[WEBHOOK_SENDER]

    async def deliver(self, delivery_id: str) -> None:
        claim = await self._lease(delivery_id)
        if claim is None:
            return
        at = utcnow()
        result = await self._send(claim, at)
        await self._record(claim, result, at)

    async def _lease(self, delivery_id: str) -> Claim | None:
        now = utcnow()
        token = secrets.token_hex(16)
        async with unit_of_work(self.container) as uow:
            leased = await repo.lease(
                uow.session, delivery_id, now=now, due_by=now + DUE_TOLERANCE,
                until=now + self.policy.lease, token=token,
            )  # fmt: skip
            if leased is None:
                return None
            endpoint = await uow.session.get(WebhookEndpoint, leased.endpoint_id)
            if endpoint is None or not endpoint.enabled:
                # Disabled since the event: not sent; ``recover`` queues it again.
                values = {"status": repo.FAILED, "last_error": "endpoint disabled"}
                await repo.settle(uow.session, delivery_id, token, values)
                return None
            return Claim(leased, token, endpoint.url, self._secrets(endpoint, now))

    def _secrets(self, endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
        """The current secret, and the previous one while its overlap lasts. A secret
        no configured key opens is left out (the attempt then fails, and says why)."""
        sealed = [endpoint.sealed_secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.sealed_previous_secret and expires is not None and expires > now:
            sealed.append(endpoint.sealed_previous_secret)
        opened = []
        for value in sealed:
            try:
                opened.append(self.box.open(value, endpoint_id=endpoint.id))
            except SecretUnreadableError:
                logger.error("webhook_secret_unreadable", endpoint_id=endpoint.id)
        return tuple(opened)

    async def _send(self, claim: Claim, at: datetime) -> SendResult:
        if not claim.secrets:
            return SendResult(None, 0, "the signing secret cannot be read; rotate it")
        guard = UrlGuard(self.container[WEBHOOK_RESOLVER], self.policy.url)
        try:
            target = await guard.check(claim.url)
        except WebhookUrlNotAllowedError as refused:
            # Nothing was sent: the URL's host resolves to a refused address now.
            return SendResult(None, 0, refused.detail[:500])
        return await self.sender.send(
            target,
            msg_id=claim.delivery.event_id,
            secrets=claim.secrets,
            body=claim.delivery.body.encode(),
            at=at,
        )

    async def _record(self, claim: Claim, result: SendResult, at: datetime) -> None:
        delivery = claim.delivery
        async with unit_of_work(self.container) as uow:
            await repo.add_attempt(
                uow.session,
                WebhookAttempt(
                    id=new_id("wha"),
                    tenant_id=delivery.tenant_id,
                    delivery_id=delivery.id,
                    response_status=result.response_status,
                    duration_ms=result.duration_ms,
                    error=result.error,
                    created_at=at,
                    updated_at=at,
                ),
            )
            values, retry_in = self._outcome(delivery, result, at)
            logger.info(
                "webhook_attempt",
                delivery_id=delivery.id,
                endpoint_id=delivery.endpoint_id,
                outcome=values.get("status", "retry"),
                response_status=result.response_status,
                duration_ms=result.duration_ms,
                error=result.error,
            )
            if not await repo.settle(uow.session, delivery.id, claim.token, values):
                return  # the lease ran out and another worker holds it now
            if retry_in is not None:
                uow.enqueue(Job(DELIVER_JOB, {"delivery_id": delivery.id}, retry_in))
            if result.succeeded:
                await repo.count_success(uow.session, delivery.endpoint_id)
            else:
                await self._count_failure(uow, delivery.endpoint_id)

    def _outcome(
        self, delivery: repo.LeasedDelivery, result: SendResult, at: datetime
    ) -> tuple[dict[str, object], float | None]:
        """The delivery's new values, and in how many seconds to retry (or None)."""
        scheduled = delivery.scheduled_attempts + 1
        values: dict[str, object] = {
            "attempts": WebhookDelivery.attempts + 1,
            "scheduled_attempts": scheduled,
            "last_attempt_at": at,
            "last_response_status": result.response_status,
            "last_duration_ms": result.duration_ms,
            "last_error": result.error,
            "updated_at": utcnow(),
        }
        if result.succeeded:
            return values | {"status": repo.SUCCEEDED, "next_attempt_at": None}, None
        delay = self.policy.retry_delay(scheduled)
        if delay is None:
            return values | {"status": repo.FAILED, "next_attempt_at": None}, None
        return values | {"next_attempt_at": utcnow() + timedelta(seconds=delay)}, delay

    async def _count_failure(self, uow: UnitOfWork, endpoint_id: str) -> None:
        now = utcnow()
        counted = await repo.count_failure(uow.session, endpoint_id, now)
        if counted is None:
            return
        failures, failing_since = counted
        reason = None
        if failures >= DISABLE_AFTER_FAILURES:
            reason = f"{failures} deliveries failed in a row"
        elif now - failing_since >= DISABLE_AFTER_FAILING_FOR:
            reason = f"every delivery has failed since {failing_since.isoformat()}"
        if reason is not None:
            await repo.disable(uow.session, endpoint_id, reason, now)
            logger.warning("webhook_endpoint_disabled", endpoint_id=endpoint_id, reason=reason)


class Sweeper:
    """The periodic ``webhooks.sweep``: pending deliveries past their time (by more
    than ``margin``) that nobody holds get their job again. A lost queue message, a
    killed worker or a restarted Redis leaves exactly such rows."""

    def __init__(self, container: Container, *, margin: timedelta) -> None:
        self.container = container
        self.margin = margin

    async def sweep(self) -> int:
        now = utcnow()
        async with unit_of_work(self.container, write=False) as uow:
            ids = await repo.due_deliveries(
                uow.session, due_before=now - self.margin, now=now, limit=SWEEP_BATCH
            )
        if ids:
            jobs = [Job(DELIVER_JOB, {"delivery_id": delivery_id}) for delivery_id in ids]
            await self.container[JOBS].enqueue(*jobs)
            logger.info("webhook_deliveries_requeued", count=len(ids))
        return len(ids)


async def purge_logs(container: Container) -> tuple[int, int]:
    """The periodic ``webhooks.purge``: attempts and settled deliveries past retention."""
    async with unit_of_work(container) as uow:
        return await repo.purge_before(uow.session, utcnow() - LOG_RETENTION)

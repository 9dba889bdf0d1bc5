"""What happens to an event on its way out: the sink that turns published events into
deliveries, the delivery job, and the periodic sweep and purge.

A delivery is sent in three steps, so that no database transaction is open while a
receiver is waited for:

1. **lease** (own unit of work, committed): one conditional UPDATE claims the pending,
   due, unheld deliveries of the job until ``now + lease``; the endpoint's URL and
   secrets are read (once per endpoint);
2. **send** (no transaction): for each delivery, the URL is checked again (resolve,
   classify every address) and the body POSTed to the checked address, at most
   ``SEND_CONCURRENCY`` at a time;
3. **outcome** (a new unit): the attempts are recorded; each delivery succeeds, or is
   scheduled again (a delayed job, after the schedule's delay with jitter), or fails
   for good; the endpoint's failure count moves, and may disable it.

A job carries the deliveries of one relay pass to one endpoint (at most ``JOB_BATCH``,
``webhooks.deliver_batch``); a retry or a sweep carries one (``webhooks.deliver``).
Under load a pass holds many orders, so a job sends many deliveries for one queue
round trip, one lease and one outcome transaction (issue 13: ~100 deliveries/s per
worker when each had its own job and two transactions).

A worker killed between 1 and 3 leaves a lease that runs out; the sweeper queues the
delivery again. Two workers never send one delivery at once: only one gets the lease.
The lease lasts as long as the batch's sends may take, each bounded by the timeout.
"""

from __future__ import annotations

import asyncio
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
from orderly.webhooks.addresses import Target, UrlGuard
from orderly.webhooks.exceptions import WebhookUrlNotAllowedError
from orderly.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orderly.webhooks.policy import (
    DELIVER_BATCH_JOB,
    DELIVER_JOB,
    DISABLE_AFTER_FAILING_FOR,
    DISABLE_AFTER_FAILURES,
    LEASE_MARGIN,
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
# Deliveries in one ``webhooks.deliver_batch`` job, and sent at once by it.
JOB_BATCH = 32
SEND_CONCURRENCY = 8


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
        by_endpoint: dict[object, list[object]] = defaultdict(list)
        for row in rows:
            by_endpoint[row["endpoint_id"]].append(row["id"])
        for ids in by_endpoint.values():
            for start in range(0, len(ids), JOB_BATCH):
                uow.enqueue_job(DELIVER_BATCH_JOB, delivery_ids=ids[start : start + JOB_BATCH])


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
    """The ``webhooks.deliver`` and ``webhooks.deliver_batch`` jobs: idempotent (a
    delivery that is not pending, not due, or held by another worker is left alone)."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.policy = container[WEBHOOK_POLICY]
        self.box = container[WEBHOOK_SECRETS]
        self.sender = container[WEBHOOK_SENDER]

    async def deliver(self, delivery_id: str) -> None:
        await self.deliver_many([delivery_id])

    async def deliver_many(self, delivery_ids: Sequence[str]) -> None:
        claims = await self._lease(delivery_ids)
        if not claims:
            return
        at = utcnow()
        results = await self._send_all(claims, at)
        await self._record(list(zip(claims, results, strict=True)), at)

    def lease_for(self, count: int) -> timedelta:
        """How long ``count`` deliveries sent ``SEND_CONCURRENCY`` at a time may take,
        each within the timeout, plus the margin."""
        rounds = -(-count // SEND_CONCURRENCY)
        return timedelta(seconds=self.policy.timeout_seconds) * rounds + LEASE_MARGIN

    async def _lease(self, delivery_ids: Sequence[str]) -> list[Claim]:
        now = utcnow()
        token = secrets.token_hex(16)
        claims: list[Claim] = []
        async with unit_of_work(self.container) as uow:
            leased = await repo.lease(
                uow.session, delivery_ids, now=now, due_by=now + DUE_TOLERANCE,
                until=now + self.lease_for(len(delivery_ids)), token=token,
            )  # fmt: skip
            endpoints: dict[str, WebhookEndpoint | None] = {}
            for delivery in leased:
                if delivery.endpoint_id not in endpoints:
                    endpoints[delivery.endpoint_id] = await uow.session.get(
                        WebhookEndpoint, delivery.endpoint_id
                    )
                endpoint = endpoints[delivery.endpoint_id]
                if endpoint is None or not endpoint.enabled:
                    # Disabled since the event: not sent; ``recover`` queues it again.
                    values = {"status": repo.FAILED, "last_error": "endpoint disabled"}
                    await repo.settle(uow.session, delivery.id, token, values)
                    continue
                claims.append(Claim(delivery, token, endpoint.url, self._secrets(endpoint, now)))
        return claims

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

    async def _send_all(self, claims: Sequence[Claim], at: datetime) -> list[SendResult]:
        """Every claim's send, ``SEND_CONCURRENCY`` at a time; the URL is checked again
        for each one (SPEC: at every delivery), just before it is sent."""
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(claim: Claim) -> SendResult:
            async with gate:
                target = await self._check(claim.url)
                if isinstance(target, SendResult):
                    return target  # refused: nothing is sent
                return await self._send(claim, target, at)

        return list(await asyncio.gather(*(one(claim) for claim in claims)))

    async def _check(self, url: str) -> Target | SendResult:
        guard = UrlGuard(self.container[WEBHOOK_RESOLVER], self.policy.url)
        try:
            return await guard.check(url)
        except WebhookUrlNotAllowedError as refused:
            # Nothing was sent: the URL's host resolves to a refused address now.
            return SendResult(None, 0, refused.detail[:500])

    async def _send(self, claim: Claim, target: Target, at: datetime) -> SendResult:
        if not claim.secrets:
            return SendResult(None, 0, "the signing secret cannot be read; rotate it")
        return await self.sender.send(
            target,
            msg_id=claim.delivery.event_id,
            secrets=claim.secrets,
            body=claim.delivery.body.encode(),
            at=at,
        )

    async def _record(self, outcomes: Sequence[tuple[Claim, SendResult]], at: datetime) -> None:
        """Every outcome of the batch in one unit of work."""
        async with unit_of_work(self.container) as uow:
            await repo.add_attempts(
                uow.session,
                [
                    WebhookAttempt(
                        id=new_id("wha"),
                        tenant_id=claim.delivery.tenant_id,
                        delivery_id=claim.delivery.id,
                        response_status=result.response_status,
                        duration_ms=result.duration_ms,
                        error=result.error,
                        created_at=at,
                        updated_at=at,
                    )
                    for claim, result in outcomes
                ],
            )
            succeeded: set[str] = set()
            failed: list[str] = []
            for claim, result in outcomes:
                delivery = claim.delivery
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
                    continue  # the lease ran out and another worker holds it now
                if retry_in is not None:
                    uow.enqueue(Job(DELIVER_JOB, {"delivery_id": delivery.id}, retry_in))
                if result.succeeded:
                    succeeded.add(delivery.endpoint_id)
                else:
                    failed.append(delivery.endpoint_id)
            # Successes first: a failure in the same batch still counts afterwards.
            for endpoint_id in sorted(succeeded):
                await repo.count_success(uow.session, endpoint_id)
            for endpoint_id in failed:
                await self._count_failure(uow, endpoint_id)

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

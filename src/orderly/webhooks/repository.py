"""Queries of webhooks: the tenant's endpoints and delivery log (scoped repositories),
and the delivery job's own statements, which start from a delivery id alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.repository import TenantRepository
from orderly.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


async def count_endpoints(session: AsyncSession, tenant_id: str) -> int:
    """The tenant's endpoints that count against its plan: all of them (a disabled one
    can be enabled again; deleting one makes room)."""
    e = WebhookEndpoint
    stmt = select(func.count()).select_from(e).where(e.tenant_id == tenant_id)
    return int((await session.execute(stmt)).scalar_one())


class EndpointRepository(TenantRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def enabled(self) -> Sequence[WebhookEndpoint]:
        stmt = self.scoped().where(WebhookEndpoint.enabled.is_(True))
        return list((await self.session.execute(stmt)).scalars())


class DeliveryRepository(TenantRepository[WebhookDelivery]):
    model = WebhookDelivery

    def of_endpoint(
        self, endpoint_id: str, *, status: str | None = None, event_type: str | None = None
    ) -> Select[Any]:
        stmt = self.scoped().where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        if event_type is not None:
            stmt = stmt.where(WebhookDelivery.event_type == event_type)
        return stmt

    async def get_of_endpoint(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        stmt = self.of_endpoint(endpoint_id).where(WebhookDelivery.id == delivery_id)
        row: WebhookDelivery | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def requeue(self, delivery_id: str, now: datetime) -> None:
        """Pending again with a fresh retry schedule, due now."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.tenant_id == self.tenant_id)
            .values(status=PENDING, scheduled_attempts=0, next_attempt_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def requeue_failed(self, endpoint_id: str, since: datetime, now: datetime) -> list[str]:
        """Every failed delivery of the endpoint created since ``since``, pending again."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == self.tenant_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == FAILED,
                WebhookDelivery.created_at >= since,
            )
            .values(status=PENDING, scheduled_attempts=0, next_attempt_at=now, updated_at=now)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        return [str(row_id) for row_id in result.scalars()]


class AttemptRepository(TenantRepository[WebhookAttempt]):
    model = WebhookAttempt

    def of_delivery(self, delivery_id: str) -> Select[Any]:
        return self.scoped().where(WebhookAttempt.delivery_id == delivery_id)


async def enabled_endpoints(session: AsyncSession, tenant_id: str) -> Sequence[WebhookEndpoint]:
    return await EndpointRepository(session, tenant_id).enabled()


async def insert_deliveries(session: AsyncSession, rows: Sequence[Mapping[str, object]]) -> None:
    """New deliveries; one that exists already (same endpoint and event) is left as is,
    so publishing an event twice never sends it twice as two deliveries."""
    table = cast(Table, WebhookDelivery.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported backends are above
        stmt = insert(table)
    await session.execute(stmt, list(rows))


@dataclass(frozen=True, slots=True)
class LeasedDelivery:
    id: str
    tenant_id: str
    endpoint_id: str
    event_id: str
    body: str
    scheduled_attempts: int


async def lease(
    session: AsyncSession, delivery_ids: Sequence[str], *, now: datetime, due_by: datetime,
    until: datetime, token: str,
) -> list[LeasedDelivery]:  # fmt: skip
    """Claim the deliveries of ``delivery_ids`` that are pending, due
    (``next_attempt_at`` by ``due_by``) and not held by another worker, or whose
    holder's lease ran out (a killed worker). One conditional UPDATE: of two workers,
    exactly one gets each row; the others are left out of the answer."""
    d = WebhookDelivery
    result = await session.execute(
        update(d)
        .where(
            d.id.in_(delivery_ids),
            d.status == PENDING,
            or_(d.leased_until.is_(None), d.leased_until < now),
            or_(d.next_attempt_at.is_(None), d.next_attempt_at <= due_by),
        )
        .values(leased_until=until, lease_token=token)
        .returning(d.id, d.tenant_id, d.endpoint_id, d.event_id, d.body, d.scheduled_attempts)
        .execution_options(synchronize_session=False)
    )
    return [LeasedDelivery(*row) for row in result]


async def settle(
    session: AsyncSession, delivery_id: str, token: str, values: Mapping[str, object]
) -> bool:
    """Write an attempt's outcome if the lease is still this worker's (and end it)."""
    d = WebhookDelivery
    result = await session.execute(
        update(d)
        .where(d.id == delivery_id, d.lease_token == token)
        .values(**values, leased_until=None, lease_token=None)
        .returning(d.id)
        .execution_options(synchronize_session=False)
    )
    return result.one_or_none() is not None


async def add_attempts(session: AsyncSession, attempts: Sequence[WebhookAttempt]) -> None:
    session.add_all(attempts)
    await session.flush()


async def count_failure(
    session: AsyncSession, endpoint_id: str, now: datetime
) -> tuple[int, datetime] | None:
    """One more failure in a row for the endpoint: the new count and since when it fails."""
    e = WebhookEndpoint
    result = await session.execute(
        update(e)
        .where(e.id == endpoint_id)
        .values(
            consecutive_failures=e.consecutive_failures + 1,
            failing_since=func.coalesce(e.failing_since, now),
        )
        .returning(e.consecutive_failures, e.failing_since)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        return None
    return int(row[0]), row[1] or now


async def count_success(session: AsyncSession, endpoint_id: str) -> None:
    e = WebhookEndpoint
    await session.execute(
        update(e)
        .where(e.id == endpoint_id, or_(e.consecutive_failures > 0, e.failing_since.is_not(None)))
        .values(consecutive_failures=0, failing_since=None)
        .execution_options(synchronize_session=False)
    )


async def disable(session: AsyncSession, endpoint_id: str, reason: str, now: datetime) -> None:
    e = WebhookEndpoint
    await session.execute(
        update(e)
        .where(e.id == endpoint_id, e.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def due_deliveries(
    session: AsyncSession, *, due_before: datetime, now: datetime, limit: int
) -> list[str]:
    """Pending deliveries whose time has passed and that nobody holds: their job was
    lost (a Redis restart, a killed worker) or never sent."""
    d = WebhookDelivery
    stmt = (
        select(d.id)
        .where(
            d.status == PENDING,
            d.next_attempt_at < due_before,
            or_(d.leased_until.is_(None), d.leased_until < now),
        )
        .order_by(d.next_attempt_at)
        .limit(limit)
    )
    return [str(row_id) for row_id in (await session.execute(stmt)).scalars()]


async def purge_before(session: AsyncSession, cutoff: datetime) -> tuple[int, int]:
    """Delete attempts, and settled deliveries, older than ``cutoff``; the counts."""
    attempts = await session.execute(
        delete(WebhookAttempt).where(WebhookAttempt.created_at < cutoff)
    )
    deliveries = await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.created_at < cutoff, WebhookDelivery.status != PENDING
        )
    )
    return _rowcount(attempts), _rowcount(deliveries)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

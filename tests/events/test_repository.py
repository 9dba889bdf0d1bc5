"""Reading published events back: after a seq, at most a limit, filtered by type."""

from __future__ import annotations

from fastapi import FastAPI

from orderly.core.container import Container
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.service import TenantService
from tests.events.helpers import Note, container_of, published_after, wait_until_published

TYPES = ["order.created", "item.created", "order.cancelled", "item_x.created", "webhook.test"]


async def _tenant_with_events(container: Container) -> str:
    async with unit_of_work(container) as uow:
        tenant = (await TenantService(uow, container).create("Types")).id
    async with unit_of_work(container) as uow:
        for event_type in TYPES:
            await uow.record_event(
                event_type, tenant_id=tenant, subject_id="sub_1", payload=Note(text=event_type)
            )
    await wait_until_published(container, tenant)
    return tenant


async def test_published_after_reads_ascending_from_a_seq_up_to_a_limit(app: FastAPI) -> None:
    container = container_of(app)
    tenant = await _tenant_with_events(container)
    events = await published_after(container, tenant, 1, 2)
    assert [(event.seq, event.type) for event in events] == [
        (2, "item.created"),
        (3, "order.cancelled"),
    ]
    assert events[0].data == {"text": "item.created"}
    assert await published_after(container, tenant, 5) == []


async def test_published_after_filters_by_exact_types_and_patterns(app: FastAPI) -> None:
    container = container_of(app)
    tenant = await _tenant_with_events(container)

    async def types(*wanted: str) -> list[str]:
        return [event.type for event in await published_after(container, tenant, types=wanted)]

    assert await types("order.*") == ["order.created", "order.cancelled"]
    # "_" is a literal here, not LIKE's any-character: "item.*" is not "item_x.*".
    assert await types("item.*", "webhook.test") == ["item.created", "webhook.test"]
    assert await types("item_*") == ["item_x.created"]
    assert await types("*") == TYPES
    assert await types() == []


async def test_published_after_sees_only_the_given_tenant(app: FastAPI) -> None:
    container = container_of(app)
    mine, theirs = await _tenant_with_events(container), await _tenant_with_events(container)
    assert {event.tenant_id for event in await published_after(container, mine)} == {mine}
    assert len(await published_after(container, theirs)) == len(TYPES)

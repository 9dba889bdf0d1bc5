"""Helpers of the webhook tests: endpoints through the API, events handed to the
sinks as the relay hands them, a resolver the tests script, and polling."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from ipaddress import ip_address
from typing import Any

import httpx
from fastapi import FastAPI

from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.unit_of_work import unit_of_work
from orderly.events.sinks import EVENT_SINKS, PublishedEvent
from orderly.webhooks.addresses import IPAddress

_seq = iter(range(1, 1_000_000))


def container_of(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


async def create_endpoint(
    client: httpx.AsyncClient,
    headers: Mapping[str, str],
    url: str,
    event_types: Sequence[str] = ("*",),
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", headers=dict(headers), json={"url": url, "event_types": event_types}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def event(
    tenant_id: str,
    event_type: str = "order.created",
    *,
    subject_id: str = "ord_000000000000000000000000",
    data: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> PublishedEvent:
    return PublishedEvent(
        id=f"evt_{uuid.uuid4().hex}",
        seq=next(_seq),
        tenant_id=tenant_id,
        type=event_type,
        subject_id=subject_id,
        created_at=created_at or utcnow(),
        data=data or {"id": subject_id, "status": "pending"},
    )


async def publish(app: FastAPI, *events: PublishedEvent) -> None:
    """What the relay does with a batch: every sink, in one unit of work (committed)."""
    container = container_of(app)
    async with unit_of_work(container) as uow:
        for sink in container[EVENT_SINKS]:
            await sink(uow, events)


async def deliveries(
    client: httpx.AsyncClient, headers: Mapping[str, str], endpoint_id: str, **params: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=dict(headers), params=params
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def attempts(
    client: httpx.AsyncClient, headers: Mapping[str, str], endpoint_id: str, delivery_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/attempts",
        headers=dict(headers),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within_seconds: float = 15.0, what: str = "it"
) -> None:
    """Poll ``check`` until it holds; fail after ``within_seconds``."""
    deadline = time.monotonic() + within_seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within_seconds} s")
        await asyncio.sleep(0.05)


async def settled(
    client: httpx.AsyncClient,
    headers: Mapping[str, str],
    endpoint_id: str,
    *,
    count: int = 1,
    within_seconds: float = 15.0,
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once ``count`` of them are no longer pending."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal found
        found = await deliveries(client, headers, endpoint_id)
        return bool(sum(d["status"] != "pending" for d in found) >= count)

    await eventually(done, within_seconds=within_seconds, what="settling the deliveries")
    return found


class ScriptedResolver:
    """A resolver that answers what the test says (no DNS traffic)."""

    def __init__(self, answers: Mapping[str, Sequence[str]]) -> None:
        self.answers = {host: [ip_address(a) for a in found] for host, found in answers.items()}

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        try:
            return [ip_address(host)]
        except ValueError:
            pass
        if host not in self.answers:
            raise OSError(f"{host} does not resolve")
        return self.answers[host]

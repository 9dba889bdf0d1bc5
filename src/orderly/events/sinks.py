"""Where relayed events go: the port between the relay and its consumers.

The relay (this package) gives each committed outbox row its per-tenant ``seq`` and
then hands the batch to every registered sink, **inside the relay's unit of work**: a
sink that writes rows (webhook deliveries) or queues jobs (``uow.enqueue_job``) does so
in the same transaction that publishes the events, so an event is published if and only
if its deliveries exist. Live listeners (SSE, WebSocket) hang on ``uow.after_commit``.

A domain registers its sink in its ``provide``: ``container[EVENT_SINKS].add(sink)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orderly.core.container import Key
from orderly.core.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """An outbox row once the relay has numbered it: the event object of SPEC.md."""

    id: str  # "evt_…": the public id, also the webhook-id of every delivery
    seq: int  # per-tenant, grows in commit order
    tenant_id: str
    type: str
    subject_id: str  # the id of the resource the event is about
    created_at: datetime
    data: dict[str, Any]  # the resource as the API shows it after the change

    def as_object(self) -> dict[str, Any]:
        """``{id, seq, type, created_at, data}``, the same on every channel."""
        return {
            "id": self.id,
            "seq": self.seq,
            "type": self.type,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


class EventSink(Protocol):
    async def __call__(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        """Consume a batch (ascending ``seq`` per tenant) inside the relay's unit."""
        ...


class EventSinks:
    def __init__(self) -> None:
        self._sinks: list[EventSink] = []

    def add(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def __iter__(self) -> Iterator[EventSink]:
        return iter(self._sinks)


EVENT_SINKS: Key[EventSinks] = Key("event_sinks")

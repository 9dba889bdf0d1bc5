"""The hub's bookkeeping, in memory: what a subscription queues, and how a reader
tells a gap from events it merely does not want."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from orderly.events.sinks import PublishedEvent
from orderly.live.hub import LiveEvent, LiveHub, Signal, Subscription


def _event(seq: int, event_type: str = "order.created", tenant: str = "ten_a") -> LiveEvent:
    return LiveEvent.of(
        PublishedEvent(
            id=f"evt_{seq}",
            seq=seq,
            tenant_id=tenant,
            type=event_type,
            subject_id="ord_x",
            created_at=datetime(2026, 12, 7, tzinfo=UTC),
            data={"id": "ord_x", "user_id": "usr_1"},
        )
    )


def _everything(_event: LiveEvent) -> bool:
    return True


async def test_consecutive_events_are_queued_with_the_start_of_their_run() -> None:
    subscription = Subscription("ten_a", _everything, max_pending=10)
    for seq in (5, 6, 7):
        subscription.offer(_event(seq))
    got = await subscription.next()
    assert not isinstance(got, Signal)
    assert [(event.seq, chain) for event, chain in got] == [(5, 5), (6, 5), (7, 5)]


async def test_a_jump_starts_a_new_run_and_duplicates_are_dropped() -> None:
    subscription = Subscription("ten_a", _everything, max_pending=10)
    for seq in (5, 6, 6, 4, 9, 10):
        subscription.offer(_event(seq))
    got = await subscription.next()
    assert not isinstance(got, Signal)
    assert [(event.seq, chain) for event, chain in got] == [(5, 5), (6, 5), (9, 9), (10, 9)]


async def test_unwanted_events_extend_the_run_without_being_queued() -> None:
    items_only = Subscription("ten_a", lambda e: e.type.startswith("item."), max_pending=10)
    items_only.offer(_event(5, "item.updated"))
    items_only.offer(_event(6, "order.created"))
    items_only.offer(_event(7, "item.updated"))
    got = await items_only.next()
    assert not isinstance(got, Signal)
    # 7's run starts at 5: nothing between 5 and 7 was missed, 6 was just not wanted.
    assert [(event.seq, chain) for event, chain in got] == [(5, 5), (7, 5)]


async def test_an_overflow_empties_the_queue_signals_and_calls_back_at_once() -> None:
    calls: list[int] = []
    subscription = Subscription("ten_a", _everything, max_pending=3)
    subscription.on_overflow = lambda: calls.append(1)
    for seq in range(1, 5):
        subscription.offer(_event(seq))
    assert calls == [1]
    assert subscription.pending == 0
    assert await subscription.next() is Signal.OVERFLOW
    subscription.offer(_event(5))
    got = await subscription.next()
    assert not isinstance(got, Signal)
    assert [(event.seq, chain) for event, chain in got] == [(5, 5)]


async def test_events_held_by_the_reader_count_against_the_bound() -> None:
    subscription = Subscription("ten_a", _everything, max_pending=3)
    subscription.held = 2  # taken by the reader, not yet sent
    subscription.offer(_event(1))
    assert subscription.pending == 1
    subscription.offer(_event(2))  # the fourth unsent event
    assert subscription.pending == 0
    assert await subscription.next() is Signal.OVERFLOW


async def test_a_lost_subscription_signals_before_what_it_still_holds() -> None:
    subscription = Subscription("ten_a", _everything, max_pending=10)
    subscription.offer(_event(1))
    subscription.lose()
    assert await subscription.next() is Signal.LOST
    got = await subscription.next()
    assert not isinstance(got, Signal)
    assert [event.seq for event, _ in got] == [1]


async def test_the_hub_fans_out_to_its_tenant_only_and_forgets_a_closed_subscription() -> None:
    hub = LiveHub(None, channel="unused", max_pending=10)
    with hub.subscribe("ten_a", _everything) as mine, hub.subscribe("ten_b", _everything) as other:
        assert hub.size == 2
        await hub.publish(
            [
                PublishedEvent(
                    id="evt_1",
                    seq=1,
                    tenant_id="ten_a",
                    type="item.created",
                    subject_id="itm_x",
                    created_at=datetime(2026, 12, 7, tzinfo=UTC),
                    data={"id": "itm_x"},
                )
            ]
        )
        assert (mine.pending, other.pending) == (1, 0)
    assert hub.size == 0


def test_an_event_is_serialized_once_as_its_object_and_its_sse_frame() -> None:
    event = _event(42)
    assert event.owner == "usr_1"
    assert event.frame == f"id: 42\nevent: order.created\ndata: {event.text}\n\n".encode()
    assert '"seq":42' in event.text
    assert '"created_at":"2026-12-07T00:00:00Z"' in event.text


def _published(seq: int) -> PublishedEvent:
    return PublishedEvent(
        id=f"evt_{seq}",
        seq=seq,
        tenant_id="ten_a",
        type="order.created",
        subject_id="ord_x",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        data={"id": "ord_x"},
    )


async def test_events_within_the_coalescing_window_reach_a_stream_in_one_wake_up() -> None:
    hub = LiveHub(None, channel="unused", max_pending=10, coalesce_seconds=0.05)
    with hub.subscribe("ten_a", _everything) as subscription:
        for seq in (1, 2, 3):
            await hub.publish([_published(seq)])
        assert subscription.pending == 0  # held until the window ends
        async with asyncio.timeout(5):
            got = await subscription.next()
        assert not isinstance(got, Signal)
        assert [(event.seq, chain) for event, chain in got] == [(1, 1), (2, 1), (3, 1)]


async def test_stopping_the_hub_releases_what_the_window_still_held() -> None:
    hub = LiveHub(None, channel="unused", max_pending=10, coalesce_seconds=60)
    with hub.subscribe("ten_a", _everything) as subscription:
        await hub.publish([_published(1)])
        assert subscription.pending == 0
        await hub.stop()
        assert subscription.pending == 1

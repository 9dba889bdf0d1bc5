"""What live adds to the container: the hub (subscribed to the pub/sub channel of
this deployment's prefix), its sink for the relay, the WebSocket tickets, and the
watch that ends sockets whose API key is revoked."""

from __future__ import annotations

from orderly.api_keys.service import REVOKED_KEY_ID_TOPIC
from orderly.config import Settings
from orderly.core.cache import INVALIDATION_BUS
from orderly.core.container import Container
from orderly.core.kvstore import KV, REDIS
from orderly.events.sinks import EVENT_SINKS
from orderly.live.credentials import KEY_WATCH, KeyWatch
from orderly.live.hub import LIVE_HUB, LiveHub, LiveSink
from orderly.live.service import LIVE_OPTIONS, LiveOptions
from orderly.live.tickets import WS_TICKETS, TicketStore


async def provide(container: Container, settings: Settings) -> None:
    hub = LiveHub(
        container[REDIS],
        channel=f"{settings.redis_prefix}live:events",
        max_pending=settings.live_max_pending_events,
        coalesce_seconds=settings.live_coalesce_ms / 1000,
    )
    container.add(LIVE_HUB, hub, close=hub.stop)
    await hub.start()
    container[EVENT_SINKS].add(LiveSink(hub))
    container.add(
        LIVE_OPTIONS,
        LiveOptions(
            heartbeat_seconds=settings.live_heartbeat_seconds,
            max_pending_events=settings.live_max_pending_events,
        ),
    )
    container.add(WS_TICKETS, TicketStore(container[KV]))
    key_watch = KeyWatch()
    container[INVALIDATION_BUS].subscribe(REVOKED_KEY_ID_TOPIC, key_watch.revoked)
    container.add(KEY_WATCH, key_watch)

"""An order placed through the API reaches a subscribed receiver: outbox, relay,
sink, job, signed POST. Needs the relay (issue 13 item 2), merged separately."""

from __future__ import annotations

import json

import httpx
import pytest

from orderly.events.models import Event
from tests.support.api import add_item, place_order, register
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_endpoint

# The relay numbers events (the agreed ``events.seq`` column): without it nothing
# publishes outbox rows to the sinks.
RELAY_MERGED = "seq" in Event.__table__.columns


@pytest.mark.skipif(not RELAY_MERGED, reason="relay not merged")
async def test_a_placed_order_reaches_the_receiver(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url, ["order.*"])
    receiver.trust(endpoint["secret"])
    item = await add_item(client, owner.headers)
    placed = await place_order(client, owner.headers, [(item["id"], 1)])
    assert placed.status_code == 201, placed.text
    (got,) = await receiver.wait_for(1, within_seconds=10)
    assert got.verified
    body = json.loads(got.body)
    assert body["type"] == "order.created"
    assert body["data"]["id"] == placed.json()["id"]
    assert body["id"].startswith("evt_")
    assert got.headers["webhook-id"] == body["id"]
    assert body["seq"] >= 1

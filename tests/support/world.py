"""A tenant populated with one principal of every kind, and objects to act on."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from orderly.core.identity import Scope
from tests.support.api import (
    Account,
    add_api_key,
    add_item,
    add_user,
    key_headers,
    place_order,
    register,
)

ALL_SCOPES = [scope.value for scope in Scope]


@dataclass
class World:
    client: httpx.AsyncClient
    owner: Account
    admin: Account
    member: Account
    ids: dict[str, str] = field(default_factory=dict)

    async def key_with(self, scopes: list[str]) -> dict[str, str]:
        return key_headers((await add_api_key(self.client, self.owner, scopes))["key"])

    async def headers_for(self, principal: str, scope: str | None) -> dict[str, str]:
        """owner/admin/member, or key+ (holds ``scope``) / key- (every scope but it)."""
        if principal in ("owner", "admin", "member"):
            account: Account = getattr(self, principal)
            return account.headers
        if principal == "key+":
            return await self.key_with([scope] if scope else ALL_SCOPES)
        others = [s for s in ALL_SCOPES if s != scope]
        return await self.key_with(others)


async def build_world(client: httpx.AsyncClient, tenant_name: str = "World") -> World:
    owner = await register(client, tenant_name)
    world = World(
        client=client,
        owner=owner,
        admin=await add_user(client, owner, "admin"),
        member=await add_user(client, owner, "member"),
    )
    target = await add_user(client, owner, "member")
    world.ids["user_id"] = target.user_id
    world.ids["key_id"] = (await add_api_key(client, owner, ["read:items"], "target"))["id"]
    world.ids["item_id"] = (await add_item(client, owner.headers, name="Target"))["id"]
    order = await place_order(client, owner.headers, [(world.ids["item_id"], 1)])
    world.ids["order_id"] = order.json()["id"]
    # Port 9 (discard) on loopback: nothing there answers, and nothing leaves the host.
    # Subscribed to a type the world never emits: its orders queue no deliveries.
    endpoint = await client.post(
        "/api/v1/webhooks",
        headers=owner.headers,
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["tenant.plan_changed"]},
    )
    assert endpoint.status_code == 201, endpoint.text
    world.ids["endpoint_id"] = endpoint.json()["id"]
    world.ids["delivery_id"] = "dlv_" + "0" * 24  # none exists: its routes answer 404
    world.ids["export_id"] = "exp_" + "0" * 24  # likewise
    return world

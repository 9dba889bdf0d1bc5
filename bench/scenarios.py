"""The scenarios, and the systems (servers plus credentials) they run against."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlencode

from bench.procs import Server
from bench.seed import Principal, Targets

Auth = Literal["apikey", "jwt", "none"]
ITEMS_PATH = "/api/v1/items?limit=20"


@dataclass(frozen=True)
class Load:
    """One wrk process: what it requests and with how many connections."""

    path: str  # may hold {item_id}
    script: str  # bench/lua/<script>
    connections: int
    auth: Auth = "apikey"
    method: str = "GET"
    if_none_match: bool = False
    body_env: str | None = None  # the lua_env() entry sent as the body
    content_type: str | None = None
    expect_status: int = 200  # checked once before the first run

    def scaled(self, factor: float) -> Load:
        return replace(self, connections=round(self.connections * factor))


@dataclass(frozen=True)
class Scenario:
    name: str
    load: Load
    systems: tuple[str, ...] = ("fastapi", "orderly")  # run in this order: A, then B
    # nocache: Orderly with its cache off; nolimits: with rate limiting off
    phase: Literal["main", "nocache", "nolimits"] = "main"
    stock_check: bool = False
    companion: Load | None = None  # a second load at the same time (login storm)
    items_baseline: bool = False  # its fastapi runs make the /items baseline
    in_c256: bool = True


def scenarios(connections: int) -> tuple[Scenario, ...]:
    items = Load(ITEMS_PATH, "items_apikey.lua", connections)
    items48 = Load(ITEMS_PATH, "items_apikey.lua", 48)
    return (
        Scenario(
            "items_list_apikey",
            items,
            systems=("fastapi", "raw", "orderly"),
            items_baseline=True,
        ),
        Scenario(
            "items_list_jwt",
            Load(ITEMS_PATH, "items_jwt.lua", connections, auth="jwt"),
            items_baseline=True,
        ),
        Scenario(
            "item_get_304",
            Load(
                "/api/v1/items/{item_id}",
                "item_304.lua",
                connections,
                if_none_match=True,
                expect_status=304,
            ),
        ),
        Scenario(
            "orders_create",
            Load(
                "/api/v1/orders",
                "orders_create.lua",
                connections,
                method="POST",
                body_env="BENCH_ORDER_BODY",
                content_type="application/json",
                expect_status=201,
            ),
            stock_check=True,
        ),
        Scenario("health_live", Load("/health/live", "health.lua", connections, auth="none")),
        Scenario("items_list_c48", items48, in_c256=False),
        Scenario("items_list_nolimits", items, systems=("orderly",), phase="nolimits"),
        Scenario(
            "login_storm",
            items48,
            # Rate limits off: with them on, the 11th login a minute of one account is a
            # fast 429, and the storm would no longer test the password hasher's shedding.
            phase="nolimits",
            companion=Load(
                "/api/v1/auth/login",
                "login.lua",
                16,
                auth="none",
                method="POST",
                body_env="BENCH_LOGIN_BODY",
                content_type="application/x-www-form-urlencoded",
            ),
        ),
        Scenario(
            "items_list_nocache",
            items,
            systems=("fastapi", "pgraw", "orderly"),
            phase="nocache",
            items_baseline=True,
        ),
    )


@dataclass
class System:
    """A server under load plus what its requests need (credentials, ids, ETag)."""

    name: str  # "fastapi" | "raw" | "pgraw" | "orderly"
    label: str
    server: Server
    targets: Targets | None = None  # None: the raw app only serves /items
    api_key: str = "sk_baseline_unused"
    principal: Principal | None = None  # None: baseline, no real auth
    login_form: tuple[str, str] = ("bench@example.com", "unused-password")

    def url(self, load: Load) -> str:
        item_id = self.targets.item_id if self.targets else ""
        return self.server.base_url + load.path.format(item_id=item_id)

    def lua_env(self, token: str) -> dict[str, str]:
        env = {
            "BENCH_API_KEY": self.api_key,
            "BENCH_TOKEN": token,
            "BENCH_LOGIN_BODY": urlencode(
                {"username": self.login_form[0], "password": self.login_form[1]}
            ),
        }
        if self.targets is not None:
            line = {"item_id": self.targets.hot_item_id, "quantity": 1}
            env["BENCH_ETAG"] = self.targets.etag
            env["BENCH_ORDER_BODY"] = json.dumps({"lines": [line]})
        return env

    def headers(self, load: Load, token: str) -> dict[str, str]:
        """The headers the load's Lua script sends (for the one-off preflight check)."""
        headers: dict[str, str] = {}
        if load.auth == "apikey":
            headers["X-API-Key"] = self.api_key
        elif load.auth == "jwt":
            headers["Authorization"] = f"Bearer {token}"
        if load.if_none_match and self.targets is not None:
            headers["If-None-Match"] = self.targets.etag
        if load.content_type is not None:
            headers["Content-Type"] = load.content_type
        return headers

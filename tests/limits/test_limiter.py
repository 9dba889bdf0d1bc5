"""The limiter's parts on their own: the in-process counter, the Redis counter (one
script call per check, counted by a throwaway Redis), failing open, the client IP."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from orderly.core.failures import FailureCounts
from orderly.core.kvstore import open_redis
from orderly.core.ratelimit import (
    ClientAddresses,
    MemoryWindowCounter,
    Quota,
    RateLimiter,
    RedisWindowCounter,
    Verdict,
)
from orderly.core.ratelimit.headers import HEADERS_SCOPE_KEY, RateLimitExceededError, admit
from tests.support.server import free_port
from tests.support.throwaway import ThrowawayRedis

QUOTA = Quota("principal", 3)
AT = 1_700_000_000.0 - 1_700_000_000.0 % 60 + 15  # 15 s into a minute


def _limiter(counter: MemoryWindowCounter | RedisWindowCounter, now: float = AT) -> RateLimiter:
    return RateLimiter(counter, failures=FailureCounts(), clock=lambda: now)


async def test_a_window_counts_each_key_apart_and_refuses_past_the_quota() -> None:
    limiter = _limiter(MemoryWindowCounter())

    verdicts = [await limiter.hit(QUOTA, "a") for _ in range(4)]
    other = await limiter.hit(QUOTA, "b")

    assert [(v.count, v.allowed, v.remaining, v.reset_seconds) for v in verdicts if v] == [
        (1, True, 2, 45),
        (2, True, 1, 45),
        (3, True, 0, 45),
        (4, False, 0, 45),
    ]
    assert other is not None
    assert other.count == 1


async def test_the_in_process_counter_forgets_a_window_once_the_next_begins() -> None:
    counter = MemoryWindowCounter()
    for _ in range(3):
        await _limiter(counter).hit(QUOTA, "a")

    fresh = await _limiter(counter, AT + 60).hit(QUOTA, "a")
    late = await _limiter(counter, AT).hit(QUOTA, "a")  # computed before the turn

    assert fresh is not None
    assert late is not None
    assert (fresh.count, late.count) == (1, 2)  # the late hit counts in the new window
    assert len(counter._windows[60][1]) == 1  # only the current window's keys are kept


async def test_a_disabled_limiter_counts_nothing() -> None:
    limiter = RateLimiter(MemoryWindowCounter(), failures=FailureCounts(), enabled=False)

    assert await limiter.hit(QUOTA, "a") is None


async def test_a_redis_counter_is_one_script_call_per_check(
    throwaway_redis: ThrowawayRedis,
) -> None:
    """What the server receives from clients (MONITOR; commands a script runs are
    marked "lua" there): one EVALSHA per check, nothing else."""
    redis = open_redis(
        throwaway_redis.url,
        max_connections=4,
        pool_timeout=2,
        socket_timeout=2,
        connect_timeout=2,
    )
    observer = Redis.from_url(throwaway_redis.url)
    try:
        limiter = _limiter(RedisWindowCounter(redis, prefix="t:"))
        await limiter.hit(QUOTA, "warm-up")  # connects and loads the script once
        async with observer.monitor() as monitor:
            verdicts = [await limiter.hit(QUOTA, "a") for _ in range(5)]
            await redis.ping()  # the end of the checks, in the server's order
            seen: list[tuple[str, str]] = []
            while not seen or seen[-1][1] != "PING":
                command = await asyncio.wait_for(monitor.next_command(), timeout=10)
                seen.append((command["client_type"], command["command"].split()[0].upper()))
    finally:
        await redis.aclose()
        await observer.aclose()
    assert [v.count for v in verdicts if v] == [1, 2, 3, 4, 5]
    from_clients = [name for kind, name in seen if kind != "lua"]
    assert from_clients == ["EVALSHA"] * 5 + ["PING"]
    assert {name for kind, name in seen if kind == "lua"} <= {"INCRBY", "EXPIRE"}


async def test_processes_sharing_a_redis_share_the_count(
    throwaway_redis: ThrowawayRedis,
) -> None:
    clients = [
        open_redis(
            throwaway_redis.url,
            max_connections=2,
            pool_timeout=2,
            socket_timeout=2,
            connect_timeout=2,
        )
        for _ in range(2)
    ]
    try:
        first, second = (_limiter(RedisWindowCounter(c, prefix="t:")) for c in clients)
        counts = [await (first if n % 2 else second).hit(QUOTA, "shared") for n in range(4)]
    finally:
        for client in clients:
            await client.aclose()
    assert [(v.count, v.allowed) for v in counts if v] == [
        (1, True),
        (2, True),
        (3, True),
        (4, False),
    ]


async def test_an_unreachable_store_fails_open_and_is_counted() -> None:
    nobody = open_redis(
        f"redis://127.0.0.1:{free_port()}/0",
        max_connections=2,
        pool_timeout=1,
        socket_timeout=1,
        connect_timeout=1,
    )
    failures = FailureCounts()
    limiter = RateLimiter(RedisWindowCounter(nobody, prefix="t:"), failures=failures)
    try:
        first = await limiter.hit(QUOTA, "a")
        second = await limiter.hit(QUOTA, "a")  # within the pause: not even asked
    finally:
        await nobody.aclose()

    assert (first, second) == (None, None)
    assert failures.counts["rate_limit"] == 1


def test_admitted_verdicts_leave_their_headers_for_the_response() -> None:
    scope: dict[str, object] = {}

    admit(scope, _limiter_now(MemoryWindowCounter()))

    assert scope[HEADERS_SCOPE_KEY] == [
        (b"ratelimit-policy", b'"principal";q=3;w=60'),
        (b"ratelimit", b'"principal";r=2;t=45'),
    ]


def test_a_refused_verdict_raises_the_429_with_retry_after() -> None:
    counter = MemoryWindowCounter()
    for _ in range(3):
        _limiter_now(counter)
    refused = _limiter_now(counter)

    with pytest.raises(RateLimitExceededError) as raised:
        admit({}, refused)

    assert raised.value.status == 429
    assert raised.value.code == "RATE_LIMITED"
    assert raised.value.headers == {
        "Retry-After": "45",
        "RateLimit-Policy": '"principal";q=3;w=60',
        "RateLimit": '"principal";r=0;t=45',
    }


def _limiter_now(counter: MemoryWindowCounter) -> Verdict:
    """A hit of key "a" at ``AT``, without the limiter (the 429 tests raise from it)."""
    return Verdict(QUOTA, counter.hit_now("a", int(AT // 60), 60), 45)


def _scope(peer: str, *forwarded: str) -> dict[str, object]:
    return {
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


@pytest.mark.parametrize(
    ("trusted", "scope", "client"),
    [
        ([], _scope("203.0.113.7", "198.51.100.1"), "203.0.113.7"),  # no proxy trusted
        (["10.0.0.0/8"], _scope("203.0.113.7", "198.51.100.1"), "203.0.113.7"),  # not it
        (["10.0.0.0/8"], _scope("10.0.0.2", "198.51.100.1"), "198.51.100.1"),
        # the client's own claim (leftmost) is ignored: the rightmost untrusted hop wins
        (["10.0.0.0/8"], _scope("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.9"), "198.51.100.1"),
        (["10.0.0.0/8"], _scope("10.0.0.2", "1.1.1.1", "198.51.100.1"), "198.51.100.1"),
        (["10.0.0.0/8"], _scope("10.0.0.2", "garbage, 10.0.0.5"), "10.0.0.5"),
        (["10.0.0.0/8"], _scope("10.0.0.2"), "10.0.0.2"),
        (["::1/128"], _scope("::1", "2001:db8::1"), "2001:db8::1"),
        (["127.0.0.0/8"], _scope("::ffff:127.0.0.1", "198.51.100.4"), "198.51.100.4"),
    ],
)
def test_the_client_ip_is_the_peer_or_what_trusted_proxies_forwarded(
    trusted: list[str], scope: dict[str, object], client: str
) -> None:
    assert ClientAddresses(trusted).of(scope) == client


def test_a_malformed_trusted_proxy_stops_the_start() -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        ClientAddresses(["10.0.0.0/33"])

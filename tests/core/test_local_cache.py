"""The in-process TTL + LRU map behind verified tokens, API-key resolutions and the
embedded key-value store (one implementation for all three)."""

from __future__ import annotations

import pytest

from orderly.core.cache import ExpiringLru, LocalCache
from tests.support.clock import FakeClock


def test_an_entry_lives_for_the_caches_time_to_live_on_its_clock() -> None:
    clock = FakeClock()
    cache: LocalCache[str] = LocalCache(max_entries=10, ttl_seconds=30, clock=clock)
    cache.set("k", "v")
    clock.advance(29.999)
    assert cache.get("k") == "v"
    clock.advance(0.001)
    assert cache.get("k") is None
    assert len(cache) == 0  # dropped when touched


def test_a_full_cache_drops_its_least_recently_used_entry() -> None:
    cache: LocalCache[int] = LocalCache(max_entries=2, ttl_seconds=30, clock=FakeClock())
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_an_entry_reports_its_own_expiry() -> None:
    lru: ExpiringLru[bytes] = ExpiringLru(max_entries=2, clock=FakeClock())
    lru.set_until("k", b"v", expires_at=1005.0)
    assert lru.entry("k") == (1005.0, b"v")


@pytest.mark.parametrize("max_entries", [0, -1])
def test_a_cache_without_room_for_an_entry_is_refused(max_entries: int) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        LocalCache(max_entries=max_entries, ttl_seconds=30)

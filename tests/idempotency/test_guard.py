"""Idempotency-Key end to end, on both backends (SPEC "Idempotency")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.access import get_principal
from orderly.core.container import Container
from orderly.core.kvstore import KV, KeyValueStore, StoreUnavailableError
from orderly.idempotency.repository import IDEMPOTENCY_RECORDS, IdempotencyRepository
from orderly.main import create_app
from tests.idempotency.conftest import (
    BASE,
    Calls,
    build_router,
    principal_from_headers,
    with_key,
)
from tests.support.services import Backend

THINGS = f"{BASE}/things"
REPLAYED = "x-idempotent-replayed"


async def test_the_first_request_runs_and_is_not_marked_replayed(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    response = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert response.status_code == 201
    assert REPLAYED not in response.headers
    assert calls.count == 1


async def test_a_retry_replays_the_stored_response_byte_for_byte(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    first = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    second = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers[REPLAYED] == "true"
    assert calls.count == 1


async def test_a_replay_has_its_own_request_id_and_security_headers(
    api: httpx.AsyncClient, key: str
) -> None:
    first = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    second = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert second.headers["x-content-type-options"] == "nosniff"


async def test_the_same_json_with_other_spacing_and_key_order_is_a_replay(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    headers = with_key(key) | {"Content-Type": "application/json"}
    await api.post(THINGS, content=b'{"name": "a", "delay": 0}', headers=headers)
    second = await api.post(THINGS, content=b'{"delay":0,\n"name":"a"}', headers=headers)
    assert second.headers[REPLAYED] == "true"
    assert calls.count == 1


async def test_the_same_key_with_another_body_is_rejected(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    response = await api.post(THINGS, json={"name": "b"}, headers=with_key(key))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert calls.count == 1


async def test_concurrent_requests_with_one_key_run_the_handler_once(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    held = {"name": "a", "hold": True}  # the handler that runs waits for calls.release
    requests = [
        asyncio.create_task(api.post(THINGS, json=held, headers=with_key(key))) for _ in range(10)
    ]
    # The nine that do not run the handler answer while it still holds the key.
    async with asyncio.timeout(30):
        while sum(request.done() for request in requests) < 9:
            await asyncio.wait(requests, return_when=asyncio.FIRST_COMPLETED, timeout=0.1)
    calls.release.set()
    responses = await asyncio.gather(*requests)
    assert calls.count == 1
    executed = [r for r in responses if r.status_code == 201 and REPLAYED not in r.headers]
    assert len(executed) == 1
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(in_progress) == 9
    for response in in_progress:
        assert response.json()["code"] == "IDEMPOTENCY_IN_PROGRESS"
        assert response.headers["retry-after"] == "1"


async def test_after_the_first_finishes_a_retry_is_a_replay_not_a_conflict(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    body = {"name": "a", "hold": True}
    slow = asyncio.create_task(api.post(THINGS, json=body, headers=with_key(key)))
    # The first request holds the key once its handler runs, until it is released.
    await asyncio.wait_for(calls.started.wait(), timeout=30)
    during = await api.post(THINGS, json=body, headers=with_key(key))
    calls.release.set()
    first = await slow
    after = await api.post(THINGS, json=body, headers=with_key(key))
    assert during.status_code == 409
    assert after.headers[REPLAYED] == "true"
    assert after.content == first.content
    assert calls.count == 1


@pytest.mark.parametrize("other", [{"tenant": "ten_b"}, {"user": "usr_b"}])
async def test_the_same_key_from_another_tenant_or_principal_runs_independently(
    api: httpx.AsyncClient, calls: Calls, key: str, other: dict[str, str]
) -> None:
    first = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    second = await api.post(THINGS, json={"name": "a"}, headers=with_key(key, **other))
    assert REPLAYED not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert calls.count == 2


async def test_the_same_key_on_another_path_runs_independently(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    await api.patch(f"{THINGS}/1", json={"name": "a"}, headers=with_key(key))
    response = await api.patch(f"{THINGS}/2", json={"name": "a"}, headers=with_key(key))
    assert REPLAYED not in response.headers
    assert calls.count == 2


async def test_a_patch_is_replayed_too(api: httpx.AsyncClient, calls: Calls, key: str) -> None:
    first = await api.patch(f"{THINGS}/7", json={"name": "a"}, headers=with_key(key))
    second = await api.patch(f"{THINGS}/7", json={"name": "a"}, headers=with_key(key))
    assert second.status_code == first.status_code == 200
    assert second.headers[REPLAYED] == "true"
    assert calls.count == 1


@pytest.mark.parametrize("path", ["/crash", "/upstream"])
async def test_a_server_error_is_not_stored_so_a_retry_runs_again(
    api: httpx.AsyncClient, calls: Calls, key: str, path: str
) -> None:
    first = await api.post(f"{BASE}{path}", headers=with_key(key))
    second = await api.post(f"{BASE}{path}", headers=with_key(key))
    assert first.status_code >= 500
    assert second.status_code == first.status_code
    assert REPLAYED not in second.headers
    assert calls.count == 2


async def test_a_conflict_is_not_stored_so_a_retry_runs_again(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    first = await api.post(f"{BASE}/conflict", headers=with_key(key))
    second = await api.post(f"{BASE}/conflict", headers=with_key(key))
    assert first.status_code == second.status_code == 409
    assert second.json()["code"] == "CONFLICT"
    assert REPLAYED not in second.headers
    assert calls.count == 2


async def test_a_client_error_is_stored_and_replayed(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    first = await api.post(f"{BASE}/rejected", headers=with_key(key))
    second = await api.post(f"{BASE}/rejected", headers=with_key(key))
    assert first.status_code == second.status_code == 422
    assert second.content == first.content
    assert second.headers["content-type"] == "application/problem+json"
    assert second.headers[REPLAYED] == "true"
    assert calls.count == 1


@pytest.mark.parametrize("bad_key", ["", "k" * 256])
async def test_a_key_outside_1_to_255_characters_is_rejected(
    api: httpx.AsyncClient, calls: Calls, bad_key: str
) -> None:
    response = await api.post(THINGS, json={"name": "a"}, headers=with_key(bad_key))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "IDEMPOTENCY_KEY_INVALID"
    assert body["errors"][0]["field"] == "header.idempotency-key"
    assert calls.count == 0


async def test_a_key_of_255_characters_is_accepted(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    long_key = key.ljust(255, "k")
    await api.post(THINGS, json={"name": "a"}, headers=with_key(long_key))
    second = await api.post(THINGS, json={"name": "a"}, headers=with_key(long_key))
    assert second.headers[REPLAYED] == "true"
    assert calls.count == 1


async def test_get_ignores_the_header(api: httpx.AsyncClient, calls: Calls) -> None:
    for _ in range(2):
        response = await api.get(THINGS, headers=with_key("k" * 256))
        assert response.status_code == 200
        assert REPLAYED not in response.headers
    assert calls.count == 2


async def test_requests_without_a_key_run_every_time(api: httpx.AsyncClient, calls: Calls) -> None:
    for _ in range(2):
        response = await api.post(THINGS, json={"name": "a"}, headers={"X-Test-Tenant": "t"})
        assert REPLAYED not in response.headers
    assert calls.count == 2


async def test_a_replay_is_compressed_only_for_a_client_that_accepts_gzip(
    api: httpx.AsyncClient, key: str
) -> None:
    body = {"name": "a", "padding": 2000}
    first = await api.post(THINGS, json=body, headers=with_key(key) | {"Accept-Encoding": "gzip"})
    plain = await api.post(
        THINGS, json=body, headers=with_key(key) | {"Accept-Encoding": "identity"}
    )
    zipped = await api.post(THINGS, json=body, headers=with_key(key) | {"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert plain.content == zipped.content == first.content
    assert plain.headers[REPLAYED] == zipped.headers[REPLAYED] == "true"


async def test_a_form_body_is_fingerprinted_from_its_fields(
    api: httpx.AsyncClient, calls: Calls, key: str
) -> None:
    first = await api.post(f"{BASE}/form", data={"name": "a"}, headers=with_key(key))
    again = await api.post(f"{BASE}/form", data={"name": "a"}, headers=with_key(key))
    other = await api.post(f"{BASE}/form", data={"name": "b"}, headers=with_key(key))
    assert first.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert calls.count == 1


def _records_in(app: FastAPI, wrap: Callable[[KeyValueStore], KeyValueStore]) -> None:
    """Idempotency records from here on go through ``wrap`` around the app's store."""
    container: Container = app.state.container
    records = IdempotencyRepository(wrap(container[KV]), ttl_seconds=60)
    container.replace(IDEMPOTENCY_RECORDS, records)


class _RecordsCannotBeStored:
    """Delegates to the real store, but every write of a record fails (Redis down)."""

    def __init__(self, inner: KeyValueStore) -> None:
        self.inner = inner

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        raise ConnectionError("store unavailable")

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        return await self.inner.set_if_absent(key, value, ttl_ms=ttl_ms)

    async def delete(self, *keys: str) -> None:
        await self.inner.delete(*keys)

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return await self.inner.get_many(*keys)

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        await self.inner.raise_to(key, value, ttl_ms=ttl_ms)

    async def incr(self, key: str, ttl_ms: int) -> int:
        return await self.inner.incr(key, ttl_ms=ttl_ms)


async def test_a_record_that_cannot_be_stored_does_not_fail_the_response(
    api: httpx.AsyncClient, app: FastAPI, calls: Calls, key: str
) -> None:
    _records_in(app, _RecordsCannotBeStored)
    first = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    second = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert first.status_code == second.status_code == 201
    assert calls.count == 2  # not stored, and the lock was still released


class _BlipAfterTheLock:
    """Delegates to the real store, but the read right after the lock is taken finds
    the store unreachable once (a Redis blip between two commands)."""

    def __init__(self, inner: KeyValueStore) -> None:
        self.inner = inner
        self.locked = False
        self.blipped = False

    async def get(self, key: str) -> bytes | None:
        if self.locked and not self.blipped:
            self.blipped = True
            raise StoreUnavailableError
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        await self.inner.set(key, value, ttl_ms=ttl_ms)

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        self.locked = await self.inner.set_if_absent(key, value, ttl_ms=ttl_ms)
        return self.locked

    async def delete(self, *keys: str) -> None:
        await self.inner.delete(*keys)

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return await self.inner.get_many(*keys)

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        await self.inner.raise_to(key, value, ttl_ms=ttl_ms)

    async def incr(self, key: str, ttl_ms: int) -> int:
        return await self.inner.incr(key, ttl_ms=ttl_ms)


async def test_a_key_that_cannot_be_checked_refuses_the_request_and_is_not_left_locked(
    api: httpx.AsyncClient, app: FastAPI, calls: Calls, key: str
) -> None:
    """Fails closed (503, nothing run), and the lock it took is released: the retry
    runs instead of meeting "still in progress" until the lock expires."""
    _records_in(app, _BlipAfterTheLock)
    refused = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert refused.status_code == 503
    assert refused.json()["code"] == "IDEMPOTENCY_UNAVAILABLE"
    assert refused.headers["retry-after"] == "1"
    assert calls.count == 0
    retried = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert retried.status_code == 201
    assert calls.count == 1


async def test_in_scale_out_mode_every_api_process_shares_the_key(
    api: httpx.AsyncClient, backend: Backend, settings: Settings, calls: Calls, key: str
) -> None:
    if backend.redis_url is None:
        pytest.skip("embedded mode is one process: nothing to share")
    other_process = create_app(settings)
    other_process.include_router(build_router(calls))
    other_process.dependency_overrides[get_principal] = principal_from_headers
    first = await api.post(THINGS, json={"name": "a"}, headers=with_key(key))
    async with other_process.router.lifespan_context(other_process):
        transport = httpx.ASGITransport(app=other_process)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            second = await other.post(THINGS, json={"name": "a"}, headers=with_key(key))
    assert second.headers[REPLAYED] == "true"
    assert second.content == first.content
    assert calls.count == 1

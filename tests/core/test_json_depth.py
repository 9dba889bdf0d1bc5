"""JSON bodies nested too deep are refused at the edge (422 JSON_TOO_DEEP), before FastAPI
or the idempotency fingerprint parses them."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from orderly.core.json_body import MAX_JSON_DEPTH, nests_deeper_than
from tests.support.api import add_item, place_order, register

JSON = {"Content-Type": "application/json"}


def _reference_depth(body: bytes) -> int:
    """The deepest level a JSON reader reaches, one byte at a time (slow but plain)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 92, byte != 34)
        elif byte == 34:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _random_document(rng: random.Random, levels: int) -> object:
    leaves: list[object] = [1, None, 'a["]{\\', "\\\\", '"[[', "]]]}", "[" * 40, 2.5]
    if levels <= 0 or rng.random() < 0.3:
        return rng.choice(leaves)
    if rng.random() < 0.5:
        return [_random_document(rng, levels - 1) for _ in range(rng.randint(0, 3))]
    keys = ["k", "[", '"{', "\\"]
    return {f"{rng.choice(keys)}{i}": _random_document(rng, levels - 1) for i in range(3)}


def _nested(document: object, levels: int, rng: random.Random) -> object:
    for _ in range(levels):
        document = [document] if rng.random() < 0.5 else {"a": document}
    return document


def test_the_depth_scan_agrees_with_a_json_reader_on_random_documents() -> None:
    rng = random.Random(20261201)
    for _ in range(3000):
        document = _nested(_random_document(rng, rng.randint(0, 5)), rng.randint(0, 40), rng)
        body = json.dumps(document).encode()
        expected = _reference_depth(body) > MAX_JSON_DEPTH
        assert nests_deeper_than(body) is expected, body[:200]


def test_the_depth_scan_never_passes_garbage_a_reader_would_recurse_into() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        body = bytes(rng.choice(b'[]{}"\\a,') for _ in range(rng.randint(30, 300)))
        if _reference_depth(body) > MAX_JSON_DEPTH:
            assert nests_deeper_than(body), body


@pytest.mark.parametrize(
    ("body", "too_deep"),
    [
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
        (b'["' + b"[" * 100 + b'"]', False),  # brackets in a string are text
        (b'["\\"' + b"[" * 100 + b'"]', False),  # an escaped quote does not end it
        (b'["\\\\"' + b"[" * 100 + b"]" * 100 + b"]", True),  # an escaped backslash does
        (b"[" * 100_000, True),  # never closed: a reader recurses all the same
        (b"[" + b"[1,[2]]," * 20_000 + b"[]]", False),  # wide, not deep
    ],
)
def test_the_depth_scan_reads_strings_escapes_and_brackets(body: bytes, too_deep: bool) -> None:
    assert nests_deeper_than(body) is too_deep


def _deep_order(depth: int) -> bytes:
    return b'{"lines":' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 10_000, 100_000])
@pytest.mark.parametrize("idempotency_key", [None, "deep-order"])
async def test_a_deeply_nested_order_is_422_json_too_deep(
    client: httpx.AsyncClient, depth: int, idempotency_key: str | None
) -> None:
    owner = await register(client)
    headers = owner.headers | JSON
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = await client.post("/api/v1/orders", headers=headers, content=_deep_order(depth))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "JSON_TOO_DEEP"
    assert body["errors"] == [
        {"field": "body", "message": "At most 32 levels of nesting", "code": "json_too_deep"}
    ]


async def test_no_nesting_depth_around_the_recursion_limit_is_a_500(
    client: httpx.AsyncClient,
) -> None:
    # On main, ~950 levels passed FastAPI's parse and broke the fingerprint (500); where
    # exactly depends on the stack, so sweep the neighbourhood.
    owner = await register(client)
    for depth in range(900, 1000, 4):
        headers = owner.headers | JSON | {"Idempotency-Key": f"sweep-{depth}"}
        response = await client.post("/api/v1/orders", headers=headers, content=_deep_order(depth))
        assert response.status_code == 422, (depth, response.text)
        assert response.json()["code"] == "JSON_TOO_DEEP"


async def test_a_deep_body_on_a_route_without_a_body_is_422_too(
    client: httpx.AsyncClient,
) -> None:
    # The guard fingerprints whatever body comes, even where the route declares none.
    owner = await register(client)
    item = await add_item(client, owner.headers)
    order = (await place_order(client, owner.headers, [(item["id"], 1)])).json()
    headers = owner.headers | JSON | {"Idempotency-Key": "deep-cancel"}
    response = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", headers=headers, content=b"[" * 5000
    )
    assert response.status_code == 422
    assert response.json()["code"] == "JSON_TOO_DEEP"


async def test_a_refused_deep_body_holds_no_idempotency_key(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers)
    headers = owner.headers | JSON | {"Idempotency-Key": "retry-me"}
    refused = await client.post("/api/v1/orders", headers=headers, content=_deep_order(10_000))
    assert refused.status_code == 422
    body = json.dumps({"lines": [{"item_id": item["id"], "quantity": 1}]}).encode()
    placed = await client.post("/api/v1/orders", headers=headers, content=body)
    assert placed.status_code == 201, placed.text

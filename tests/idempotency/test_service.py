"""The rules without HTTP: what identifies a request and what is kept."""

from __future__ import annotations

import pytest

from orderly.idempotency.middleware import claim_slot
from orderly.idempotency.service import canonical_body, fingerprint, is_kept, scope_key


def test_json_bodies_that_differ_only_in_spacing_and_key_order_are_the_same() -> None:
    one = canonical_body("application/json", b'{"b": [1, 2], "a": {"y": 1, "x": 2}}')
    two = canonical_body("application/json; charset=utf-8", b'{"a":{"x":2,"y":1},"b":[1,2]}')
    assert one == two


def test_a_vendor_json_media_type_is_canonicalized_too() -> None:
    assert canonical_body("application/merge-patch+json", b'{"a": 1}') == b'{"a":1}'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b'{"a": 1}'), ("application/json", b"{not json"), ("", b"\xff\xfe")],
)
def test_other_bodies_are_taken_as_they_came(content_type: str, body: bytes) -> None:
    assert canonical_body(content_type, body) == body


def _fingerprint(
    method: str = "POST", path: str = "/a", query: str = "", body: bytes = b"{}"
) -> str:
    return fingerprint(method=method, path=path, query=query, body=body)


def test_the_fingerprint_covers_method_path_query_and_body() -> None:
    variants = {
        _fingerprint(),
        _fingerprint(method="PATCH"),
        _fingerprint(path="/b"),
        _fingerprint(query="dry_run=1"),
        _fingerprint(body=b"[]"),
    }
    assert len(variants) == 5


def test_scope_keys_cannot_be_forged_by_moving_characters_between_parts() -> None:
    common = {"method": "POST", "path": "/x", "key": "k"}
    assert scope_key(tenant_id="ab", principal_id="c", **common) != scope_key(
        tenant_id="a", principal_id="bc", **common
    )


@pytest.mark.parametrize("status", [200, 201, 204, 400, 403, 404, 412, 422])
def test_final_answers_are_kept(status: int) -> None:
    assert is_kept(status)


@pytest.mark.parametrize("status", [304, 409, 429, 500, 502, 503])
def test_retryable_and_redirect_answers_are_not_kept(status: int) -> None:
    assert not is_kept(status)


def test_the_guard_refuses_to_run_without_its_middleware() -> None:
    with pytest.raises(RuntimeError, match="IdempotencyMiddleware"):
        claim_slot({"type": "http"})

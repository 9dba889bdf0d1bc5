"""Access tokens: verified once per process, but expiry and every byte still count."""

from __future__ import annotations

import time

import jwt
import pytest

from orderly.auth.tokens import AccessTokenCodec, InvalidTokenError
from orderly.core.identity import Role

KEY = "k" * 64


def _codec(ttl_seconds: int = 60, previous: list[str] | None = None) -> AccessTokenCodec:
    return AccessTokenCodec(
        signing_key=KEY,
        verification_keys=[KEY, *(previous or [])],
        algorithm="HS256",
        ttl_seconds=ttl_seconds,
    )


def test_a_token_verifies_again_and_again_with_the_same_claims() -> None:
    codec = _codec()
    token = codec.issue(user_id="usr_1", tenant_id="ten_1", role=Role.ADMIN, generation=0)
    first, second = codec.verify(token), codec.verify(token)
    assert first == second
    assert (first.user_id, first.tenant_id, first.role) == ("usr_1", "ten_1", Role.ADMIN)


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = _codec(ttl_seconds=60)
    token = codec.issue(user_id="usr_1", tenant_id="ten_1", role=Role.MEMBER, generation=0)
    claims = codec.verify(token)  # remembered now
    later = claims.expires_at + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the module tokens reads the clock from
    with pytest.raises(InvalidTokenError, match="Expired"):
        codec.verify(token)


def test_a_token_changed_by_one_byte_is_refused_after_the_original_was_remembered() -> None:
    codec = _codec()
    token = codec.issue(user_id="usr_1", tenant_id="ten_1", role=Role.MEMBER, generation=0)
    codec.verify(token)
    header, payload, signature = token.split(".")
    forged_claims = {
        "sub": "usr_2",
        "tid": "ten_1",
        "role": "owner",
        "jti": "x",
        "iat": 1,
        "exp": 2**33,
    }
    forged = jwt.encode(forged_claims, "not-the-key" * 6, algorithm="HS256")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for bad in (forged, tampered, token + "x"):
        with pytest.raises(InvalidTokenError):
            codec.verify(bad)


def test_a_token_signed_with_a_previous_key_still_verifies() -> None:
    old = AccessTokenCodec(
        signing_key="o" * 64, verification_keys=["o" * 64], algorithm="HS256", ttl_seconds=60
    )
    token = old.issue(user_id="usr_1", tenant_id="ten_1", role=Role.OWNER, generation=0)
    assert _codec(previous=["o" * 64]).verify(token).user_id == "usr_1"
    with pytest.raises(InvalidTokenError):
        _codec().verify(token)
    assert time.time() < old.verify(token).expires_at

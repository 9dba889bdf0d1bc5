"""Access tokens (JWT, PyJWT).

Signing uses one key; verification tries the current key and then the previous ones,
so a key can be rotated without logging everyone out (see README, "Rotating the signing key").
Only the configured algorithm is accepted, which also rules out ``alg: none``.

Verified tokens are remembered in-process (keyed by the whole token, so only the very
same bytes hit; expiry is checked on every use): a client sends the same token on every
request, and decoding and checking it costs about as much as serving a cached page.
Revocation is checked by the caller on every use too (``sessions/revocations.py``), so a
remembered token is never a revoked one.

A token lives at most ``ttl_seconds`` after its ``iat``, whatever its ``exp`` says: one
signed with a previous key by a deployment with a longer lifetime would otherwise
outlive the revocation markers, which last one configured lifetime.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from orderly.core.cache import LocalCache
from orderly.core.container import Key
from orderly.core.identity import Role

REQUIRED_CLAIMS = ["sub", "tid", "role", "gen", "jti", "iat", "exp"]
VERIFIED_ENTRIES = 4096
VERIFIED_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    tenant_id: str
    role: Role
    generation: int  # the user's session generation when issued
    issued_at: float
    expires_at: float


class InvalidTokenError(Exception):
    """The token is malformed, tampered with, expired or signed with an unknown key."""


class AccessTokenCodec:
    def __init__(
        self, *, signing_key: str, verification_keys: list[str], algorithm: str, ttl_seconds: int
    ) -> None:
        self._signing_key = signing_key
        self._verification_keys = verification_keys
        self._algorithm = algorithm
        self.ttl_seconds = ttl_seconds
        self._verified: LocalCache[AccessClaims] = LocalCache(
            max_entries=VERIFIED_ENTRIES, ttl_seconds=VERIFIED_TTL_SECONDS
        )

    def issue(self, *, user_id: str, tenant_id: str, role: Role, generation: int) -> str:
        # iat with millisecond precision (NumericDate may be fractional, RFC 7519 §2):
        # revocations compare against it, and whole seconds would let a token issued
        # just before a demotion, in the same second, survive it.
        now = round(time.time(), 3)
        claims = {
            "sub": user_id,
            "tid": tenant_id,
            "role": role.value,
            "gen": generation,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": int(now) + self.ttl_seconds,
        }
        return jwt.encode(claims, self._signing_key, algorithm=self._algorithm)

    def verify(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            self._verified.set(token, claims)
        if claims.expires_at <= time.time():
            self._verified.discard(token)
            raise InvalidTokenError("ExpiredSignatureError")
        return claims

    def _decode(self, token: str) -> AccessClaims:
        for key in self._verification_keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[self._algorithm],
                    options={"require": REQUIRED_CLAIMS},
                )
            except jwt.InvalidSignatureError:
                continue  # maybe signed with a previous key
            except jwt.PyJWTError as exc:
                raise InvalidTokenError(type(exc).__name__) from exc
            return _claims(claims, self.ttl_seconds)
        raise InvalidTokenError("InvalidSignatureError")


def _claims(raw: dict[str, object], max_lifetime: int) -> AccessClaims:
    generation = raw["gen"]
    if type(generation) is not int:  # not a bool, a float or a string
        raise InvalidTokenError("bad claims")
    try:
        issued_at = float(raw["iat"])  # type: ignore[arg-type]
        return AccessClaims(
            user_id=str(raw["sub"]),
            tenant_id=str(raw["tid"]),
            role=Role(str(raw["role"])),
            generation=generation,
            issued_at=issued_at,
            expires_at=min(float(raw["exp"]), issued_at + max_lifetime),  # type: ignore[arg-type]
        )
    except (ValueError, TypeError) as exc:
        raise InvalidTokenError("bad claims") from exc


ACCESS_TOKENS: Key[AccessTokenCodec] = Key("auth.access_tokens")

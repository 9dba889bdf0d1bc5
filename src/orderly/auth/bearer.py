"""``Authorization: Bearer``: the access tokens auth issues, checked for ``get_principal``
(``core.access.BEARER_TOKENS``) without a database query."""

from __future__ import annotations

from orderly.auth.tokens import AccessTokenCodec
from orderly.auth.tokens import InvalidTokenError as TokenRejected
from orderly.core.access import InvalidTokenError
from orderly.core.identity import Principal
from orderly.sessions.revocations import SessionRevocations


class BearerTokens:
    def __init__(self, codec: AccessTokenCodec, revocations: SessionRevocations) -> None:
        self.codec = codec
        self.revocations = revocations

    async def authenticate(self, credential: str) -> Principal:
        try:
            claims = self.codec.verify(credential)
        except TokenRejected as exc:
            raise InvalidTokenError from exc
        # Fails closed: with the store unreachable this raises StoreUnavailableError (503
        # with Retry-After). Whether the token was revoked (a demoted or deactivated
        # user's) lives only there, and accepting it unchecked would hand revoked powers
        # back for the length of the outage; API keys, resolved from the database, keep
        # working.
        if await self.revocations.is_revoked(claims.user_id, claims.generation):
            raise InvalidTokenError("The access token was revoked; log in or refresh again.")
        return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, role=claims.role)

    async def expires_at(self, credential: str) -> float | None:
        try:
            return self.codec.verify(credential).expires_at
        except TokenRejected:
            return None

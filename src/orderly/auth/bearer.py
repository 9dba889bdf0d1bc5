"""``Authorization: Bearer``: the access tokens auth issues, checked for ``get_principal``
(``core.access.BEARER_TOKENS``) without a database query."""

from __future__ import annotations

from orderly.auth.tokens import AccessTokenCodec
from orderly.auth.tokens import InvalidTokenError as TokenRejected
from orderly.core.access import InvalidTokenError
from orderly.core.identity import Principal
from orderly.core.kvstore import KeyValueStore
from orderly.sessions.service import access_revoked


class BearerTokens:
    def __init__(self, codec: AccessTokenCodec, kv: KeyValueStore) -> None:
        self.codec = codec
        self.kv = kv

    async def authenticate(self, credential: str) -> Principal:
        try:
            claims = self.codec.verify(credential)
        except TokenRejected as exc:
            raise InvalidTokenError from exc
        if await access_revoked(self.kv, claims.user_id, claims.issued_at):
            raise InvalidTokenError("The access token was revoked; log in or refresh again.")
        return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, role=claims.role)

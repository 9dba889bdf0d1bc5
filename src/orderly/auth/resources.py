"""What auth adds to the container: the access-token codec, and the check of bearer
tokens behind ``get_principal``."""

from __future__ import annotations

from orderly.auth.bearer import BearerTokens
from orderly.auth.tokens import ACCESS_TOKENS, AccessTokenCodec
from orderly.config import Settings
from orderly.core.access import BEARER_TOKENS
from orderly.core.container import Container
from orderly.sessions.revocations import SESSION_REVOCATIONS


async def provide(container: Container, settings: Settings) -> None:
    codec = AccessTokenCodec(
        signing_key=settings.signing_key,
        verification_keys=settings.verification_keys,
        algorithm=settings.jwt_algorithm,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    container.add(ACCESS_TOKENS, codec)
    container.add(BEARER_TOKENS, BearerTokens(codec, container[SESSION_REVOCATIONS]))

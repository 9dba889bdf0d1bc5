"""What auth adds to the container: the access-token codec and the session lifetimes."""

from __future__ import annotations

from orderly.auth.sessions import SESSION_POLICY, SessionPolicy
from orderly.auth.tokens import ACCESS_TOKENS, AccessTokenCodec
from orderly.config import Settings
from orderly.core.container import Container


async def provide(container: Container, settings: Settings) -> None:
    container.add(
        ACCESS_TOKENS,
        AccessTokenCodec(
            signing_key=settings.signing_key,
            verification_keys=settings.verification_keys,
            algorithm=settings.jwt_algorithm,
            ttl_seconds=settings.access_token_ttl_seconds,
        ),
    )
    container.add(
        SESSION_POLICY,
        SessionPolicy(
            access_ttl_seconds=settings.access_token_ttl_seconds,
            refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        ),
    )

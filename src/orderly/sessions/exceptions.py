from __future__ import annotations

from orderly.core.errors import UnauthorizedError


class InvalidRefreshTokenError(UnauthorizedError):
    code = "INVALID_REFRESH_TOKEN"

    def __init__(self) -> None:
        super().__init__("The refresh token is invalid, expired or revoked.")


class RefreshTokenReusedError(UnauthorizedError):
    """A spent refresh token came back: it leaked. Its whole family is now revoked, and
    that revocation must be committed even though the request fails."""

    code = "REFRESH_TOKEN_REUSED"
    persist_changes = True

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used; every token of this session is revoked. "
            "Log in again."
        )

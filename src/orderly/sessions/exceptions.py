from __future__ import annotations

from orderly.core.errors import UnauthorizedError


class InvalidRefreshTokenError(UnauthorizedError):
    code = "INVALID_REFRESH_TOKEN"
    default_detail = "The refresh token is invalid, expired or revoked."

    def __init__(self) -> None:
        super().__init__()


class RefreshTokenReusedError(UnauthorizedError):
    """A spent refresh token came back: it leaked. Its whole family is now revoked, and
    that revocation must be committed even though the request fails."""

    code = "REFRESH_TOKEN_REUSED"
    default_detail = (
        "This refresh token was already used; every token of this session is revoked. "
        "Log in again."
    )
    persist_changes = True

    def __init__(self) -> None:
        super().__init__()

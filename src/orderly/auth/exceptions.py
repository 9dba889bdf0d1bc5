from __future__ import annotations

from orderly.core.errors import ForbiddenError, UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        # One message for unknown email, wrong password and deactivated user alike.
        super().__init__("Incorrect email or password.")


class InvalidTokenError(UnauthorizedError):
    code = "INVALID_TOKEN"

    def __init__(self, detail: str = "The access token is invalid or has expired.") -> None:
        super().__init__(detail)


class InvalidApiKeyError(UnauthorizedError):
    code = "INVALID_API_KEY"

    def __init__(self) -> None:
        super().__init__("The API key is unknown, expired or revoked.")


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


class MissingCredentialsError(UnauthorizedError):
    code = "NOT_AUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Send 'Authorization: Bearer <access token>' or 'X-API-Key: sk_...'.")


class RoleRequiredError(ForbiddenError):
    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__("Your role does not allow this action.")


class ApiKeyNotAllowedError(ForbiddenError):
    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__("API keys cannot use this endpoint; authenticate as a user.")

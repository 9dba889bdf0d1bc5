from __future__ import annotations

from orderly.core.errors import (
    ForbiddenError,
    InsufficientScopeError,
    ServiceUnavailableError,
    UnauthorizedError,
)


class InvalidCredentialsError(UnauthorizedError):
    code = "INVALID_CREDENTIALS"
    # One message for unknown email, wrong password and deactivated user alike.
    default_detail = "Incorrect email or password."

    def __init__(self) -> None:
        super().__init__()


class InvalidTokenError(UnauthorizedError):
    code = "INVALID_TOKEN"
    default_detail = "The access token is invalid or has expired."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)


class InvalidApiKeyError(UnauthorizedError):
    code = "INVALID_API_KEY"
    default_detail = "The API key is unknown, expired or revoked."

    def __init__(self) -> None:
        super().__init__()


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


class MissingCredentialsError(UnauthorizedError):
    code = "NOT_AUTHENTICATED"
    default_detail = "Send 'Authorization: Bearer <access token>' or 'X-API-Key: sk_...'."

    def __init__(self) -> None:
        super().__init__()


class RoleRequiredError(ForbiddenError):
    code = "FORBIDDEN"
    default_detail = "Your role does not allow this action."

    def __init__(self) -> None:
        super().__init__()


class ApiKeyNotAllowedError(ForbiddenError):
    code = "FORBIDDEN"
    default_detail = "API keys cannot use this endpoint; authenticate as a user."

    def __init__(self) -> None:
        super().__init__()


class PasswordCheckBusyError(ServiceUnavailableError):
    code = "PASSWORD_CHECK_BUSY"
    default_detail = "Too many passwords are being checked right now; retry shortly."

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"Too many passwords are being checked right now; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


# What the guards of ``auth.dependencies`` raise, for the errors routes document.
AUTHENTICATION_ERRORS = (MissingCredentialsError, InvalidTokenError, InvalidApiKeyError)
ROLE_GUARD_ERRORS = (ApiKeyNotAllowedError, RoleRequiredError)  # require_role
SCOPE_GUARD_ERRORS = (InsufficientScopeError, RoleRequiredError)  # require_scope(roles=...)

"""Auth's own errors; the credential and role errors every route can raise are in
``core.access``, the refresh-token ones in ``sessions.exceptions``."""

from __future__ import annotations

from orderly.core.errors import UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        # One message for unknown email, wrong password and deactivated user alike.
        super().__init__("Incorrect email or password.")

"""Auth's own errors; the credential and role errors every route can raise are in
``core.access``, the refresh-token ones in ``sessions.exceptions``."""

from __future__ import annotations

from orderly.core.errors import UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    code = "INVALID_CREDENTIALS"
    # One message for unknown email, wrong password and deactivated user alike.
    default_detail = "Incorrect email or password."

    def __init__(self) -> None:
        super().__init__()

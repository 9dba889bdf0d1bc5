from __future__ import annotations

from orderly.core.errors import ConflictError, ForbiddenError, NotFoundError


class UserNotFoundError(NotFoundError):
    code = "USER_NOT_FOUND"
    resource = "User"


class EmailTakenError(ConflictError):
    code = "EMAIL_TAKEN"

    def __init__(self) -> None:
        super().__init__("A user with this email already exists.")


class LastOwnerError(ConflictError):
    code = "LAST_OWNER"

    def __init__(self) -> None:
        super().__init__(
            "The tenant's last active owner can be neither demoted nor deactivated; "
            "make another user an owner first."
        )


class OwnerRequiredError(ForbiddenError):
    code = "OWNER_REQUIRED"

    def __init__(self, action: str) -> None:
        super().__init__(f"Only an owner can {action}.")

from __future__ import annotations

from orderly.core.errors import ConflictError, ForbiddenError, NotFoundError


class UserNotFoundError(NotFoundError):
    code = "USER_NOT_FOUND"
    resource = "User"


class EmailTakenError(ConflictError):
    code = "EMAIL_TAKEN"
    default_detail = "A user with this email already exists."

    def __init__(self) -> None:
        super().__init__()


class LastOwnerError(ConflictError):
    code = "LAST_OWNER"
    default_detail = (
        "The tenant's last active owner can be neither demoted nor deactivated; "
        "make another user an owner first."
    )

    def __init__(self) -> None:
        super().__init__()


class OwnerRequiredError(ForbiddenError):
    code = "OWNER_REQUIRED"
    default_detail = "Only an owner can do this."

    def __init__(self, action: str) -> None:
        super().__init__(f"Only an owner can {action}.")

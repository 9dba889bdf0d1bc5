from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field
from pydantic_core import PydanticCustomError

from orderly.core.identity import Role
from orderly.core.ids import id_check, id_path
from orderly.core.schemas import InputSchema, ReadSchema, ShownId, ShownTimestamp, shown_text
from orderly.users.exceptions import UserNotFoundError

PASSWORD_MIN = 8
PASSWORD_MAX = 128
EMAIL_MAX = 320  # RFC 5321: a 64-character local part, "@", a 255-character domain

UserId = Annotated[str, id_path("usr", "user"), id_check("usr", UserNotFoundError)]


def _lower(value: str) -> str:
    return value.lower()


def _not_too_long(value: object) -> object:
    # Before EmailStr parses: it first tries a "Name <address>" regex whose time grows
    # with the square of a run of spaces (12 ms at 2,000, and pydantic's own cap is
    # 2,048). ``max_length`` alone would only be checked after that.
    if isinstance(value, str) and len(value) > EMAIL_MAX:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": EMAIL_MAX},
        )
    return value


Email = Annotated[
    EmailStr, BeforeValidator(_not_too_long), AfterValidator(_lower), Field(max_length=EMAIL_MAX)
]
Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description=f"{PASSWORD_MIN}-{PASSWORD_MAX} characters.",
        json_schema_extra={"writeOnly": True},
    ),
]
FullName = Annotated[str, Field(min_length=1, max_length=200, examples=["Ada Lovelace"])]


class UserCreate(InputSchema):
    email: Email = Field(examples=["ada@example.com"])
    password: Password = Field(examples=["correct-horse-battery"])
    full_name: FullName
    role: Role = Role.MEMBER


class UserUpdate(InputSchema):
    """Fields a staff member may change. Applied with ``exclude_unset``."""

    full_name: FullName | None = None
    role: Role | None = Field(default=None, description="Only an owner may change roles.")
    is_active: bool | None = Field(default=None, description="false deactivates the user.")


class UserRead(ReadSchema):
    id: ShownId
    tenant_id: ShownId
    email: Annotated[str, shown_text(EMAIL_MAX, format="email")]
    full_name: Annotated[str, shown_text(200)]
    role: Role
    is_active: bool
    created_at: ShownTimestamp
    updated_at: ShownTimestamp

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field

from orderly.core.identity import Role
from orderly.core.schemas import InputSchema, ReadSchema

PASSWORD_MIN = 8
PASSWORD_MAX = 128


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_lower), Field(max_length=320)]
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
    id: str
    tenant_id: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

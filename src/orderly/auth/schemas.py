from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from orderly.core.schemas import InputSchema, NoNul, shown_integer, shown_text
from orderly.tenants.schemas import TenantRead
from orderly.users.schemas import EMAIL_MAX, PASSWORD_MAX, Email, FullName, Password, UserRead

# The OAuth2 form's fields this API ignores (scope, client credentials): bounded all the same.
FORM_FIELD_MAX = 200
JWT_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


class RegisterRequest(InputSchema):
    tenant_name: str = Field(min_length=1, max_length=200, examples=["Acme Outfitters"])
    email: Email = Field(examples=["owner@acme.example"])
    password: Password = Field(examples=["correct-horse-battery"])
    full_name: FullName


class LoginForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, the same fields, none of which may hold NUL (the
    username reached PostgreSQL as is: a 500). A form is no ``InputSchema``, hence
    ``NoNul`` on each field."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$", max_length=8)] = None,
        username: Annotated[str, Form(max_length=EMAIL_MAX), NoNul],
        password: Annotated[
            str, Form(max_length=PASSWORD_MAX, json_schema_extra={"format": "password"}), NoNul
        ],
        scope: Annotated[str, Form(max_length=FORM_FIELD_MAX), NoNul] = "",
        client_id: Annotated[str | None, Form(max_length=FORM_FIELD_MAX), NoNul] = None,
        client_secret: Annotated[
            str | None,
            Form(max_length=FORM_FIELD_MAX, json_schema_extra={"format": "password"}),
            NoNul,
        ] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class Registration(BaseModel):
    tenant: TenantRead
    user: UserRead


class TokenPair(BaseModel):
    access_token: Annotated[str, shown_text(2048, pattern=JWT_PATTERN)]
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_in: Annotated[int, shown_integer(1, 2**31 - 1)] = Field(
        description="Seconds until the access token expires."
    )
    refresh_token: Annotated[str, shown_text(200, pattern="^rt_[A-Za-z0-9_-]+$")] = Field(
        description="Single use: every refresh returns a new one."
    )


class RefreshRequest(InputSchema):
    refresh_token: str = Field(min_length=1, max_length=200)

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from orderly.core.schemas import InputSchema, NoNul
from orderly.tenants.schemas import TenantRead
from orderly.users.schemas import Email, FullName, Password, UserRead


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
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(), NoNul],
        password: Annotated[str, Form(json_schema_extra={"format": "password"}), NoNul],
        scope: Annotated[str, Form(), NoNul] = "",
        client_id: Annotated[str | None, Form(), NoNul] = None,
        client_secret: Annotated[
            str | None, Form(json_schema_extra={"format": "password"}), NoNul
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
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: every refresh returns a new one.")


class RefreshRequest(InputSchema):
    refresh_token: str = Field(min_length=1, max_length=200)

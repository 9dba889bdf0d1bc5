from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from orderly.core.schemas import InputSchema
from orderly.tenants.schemas import TenantRead
from orderly.users.schemas import Email, FullName, Password, UserRead


class RegisterRequest(InputSchema):
    tenant_name: str = Field(min_length=1, max_length=200, examples=["Acme Outfitters"])
    email: Email = Field(examples=["owner@acme.example"])
    password: Password = Field(examples=["correct-horse-battery"])
    full_name: FullName


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

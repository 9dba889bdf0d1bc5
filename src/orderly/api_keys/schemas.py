from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from orderly.api_keys.exceptions import ApiKeyNotFoundError
from orderly.auth.principal import Scope
from orderly.core.database import utcnow
from orderly.core.ids import id_check, id_path
from orderly.core.schemas import InputSchema, ReadSchema

ApiKeyId = Annotated[str, id_path("key", "API key"), id_check("key", ApiKeyNotFoundError)]


def _in_future(value: datetime | None) -> datetime | None:
    if value is not None:
        if value.tzinfo is None:
            raise ValueError("expires_at needs a timezone (e.g. 2027-01-01T00:00:00Z)")
        if value <= utcnow():
            raise ValueError("expires_at must be in the future")
    return value


def _distinct(scopes: list[Scope]) -> list[Scope]:
    return sorted(set(scopes))


class ApiKeyCreate(InputSchema):
    name: str = Field(min_length=1, max_length=100, examples=["warehouse sync"])
    scopes: Annotated[list[Scope], AfterValidator(_distinct)] = Field(
        min_length=1, examples=[["read:items", "write:orders"]]
    )
    expires_at: Annotated[datetime | None, AfterValidator(_in_future)] = None


class ApiKeyRead(ReadSchema):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    scopes: list[Scope]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The raw key. Shown this once; store it now.")

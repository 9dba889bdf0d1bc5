from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from orderly.api_keys.exceptions import ApiKeyNotFoundError
from orderly.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyId, ApiKeyRead
from orderly.api_keys.service import ApiKeyService
from orderly.auth.dependencies import Staff
from orderly.auth.exceptions import ROLE_GUARD_ERRORS
from orderly.core.dependencies import DbSession
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.resources import get_resources
from orderly.core.responses import problems

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


async def _service(request: Request, session: DbSession, principal: Staff) -> ApiKeyService:
    resources = get_resources(request)
    return ApiKeyService(session, principal, resources.cursors, resources.bus)


Keys = Annotated[ApiKeyService, Depends(_service)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key (the raw key is in this response only)",
    responses=problems(*ROLE_GUARD_ERRORS),
)
async def create_api_key(body: ApiKeyCreate, keys: Keys) -> ApiKeyCreated:
    return await keys.create(body)


@router.get(
    "",
    summary="List live API keys (never the raw key)",
    responses=problems(*ROLE_GUARD_ERRORS, InvalidCursorError),
)
async def list_api_keys(keys: Keys, limit: Limit = 20, cursor: Cursor = None) -> Page[ApiKeyRead]:
    return await keys.list(limit=limit, cursor=cursor)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (requests with it fail at once)",
    responses=problems(*ROLE_GUARD_ERRORS, ApiKeyNotFoundError),
)
async def revoke_api_key(key_id: ApiKeyId, keys: Keys) -> None:
    await keys.revoke(key_id)

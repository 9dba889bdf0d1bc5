from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from orderly.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyId, ApiKeyRead
from orderly.api_keys.service import ApiKeyService
from orderly.auth.dependencies import Staff
from orderly.core.dependencies import DbSession
from orderly.core.pagination import Cursor, Limit, Page
from orderly.core.resources import get_resources
from orderly.core.responses import AUTHENTICATED, problems

router = APIRouter(prefix="/api-keys", tags=["api-keys"], responses=AUTHENTICATED)


async def _service(request: Request, session: DbSession, principal: Staff) -> ApiKeyService:
    resources = get_resources(request)
    return ApiKeyService(session, principal, resources.cursors, resources.bus)


Keys = Annotated[ApiKeyService, Depends(_service)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key (the raw key is in this response only)",
)
async def create_api_key(body: ApiKeyCreate, keys: Keys) -> ApiKeyCreated:
    return await keys.create(body)


@router.get("", summary="List live API keys (never the raw key)")
async def list_api_keys(keys: Keys, limit: Limit = 20, cursor: Cursor = None) -> Page[ApiKeyRead]:
    return await keys.list(limit=limit, cursor=cursor)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (requests with it fail at once)",
    responses=problems(404),
)
async def revoke_api_key(key_id: ApiKeyId, keys: Keys) -> None:
    await keys.revoke(key_id)

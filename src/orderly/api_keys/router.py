from __future__ import annotations

from fastapi import APIRouter, Response, status

from orderly.api_keys.dependencies import ApiKeysManageService
from orderly.api_keys.exceptions import ApiKeyNotFoundError
from orderly.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyId, ApiKeyRead
from orderly.core.access import ROLE_GUARD_ERRORS
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.responses import NO_STORE_HEADERS, problems
from orderly.tenants.exceptions import PlanLimitReachedError

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key (the raw key is in this response only)",
    responses=problems(*ROLE_GUARD_ERRORS, PlanLimitReachedError),
)
async def create_api_key(
    body: ApiKeyCreate, keys: ApiKeysManageService, response: Response
) -> ApiKeyCreated:
    # After the route's dependencies, which set the tenant data's "private, no-cache".
    response.headers.update(NO_STORE_HEADERS)
    return await keys.create(body)


@router.get(
    "",
    summary="List live API keys (never the raw key)",
    responses=problems(*ROLE_GUARD_ERRORS, InvalidCursorError),
)
async def list_api_keys(
    keys: ApiKeysManageService, limit: Limit = 20, cursor: Cursor = None
) -> Page[ApiKeyRead]:
    return await keys.list(limit=limit, cursor=cursor)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (requests with it fail at once)",
    responses=problems(*ROLE_GUARD_ERRORS, ApiKeyNotFoundError),
)
async def revoke_api_key(key_id: ApiKeyId, keys: ApiKeysManageService) -> None:
    await keys.revoke(key_id)

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from orderly.core.pagination import Cursor, Limit, Page
from orderly.core.responses import AUTHENTICATED, problems
from orderly.idempotency.dependencies import idempotency_guard
from orderly.items.dependencies import IfMatch, IfNoneMatch, ItemReaders, ItemWriters
from orderly.items.models import Item
from orderly.items.repository import ItemFilters
from orderly.items.schemas import ItemCreate, ItemRead, ItemUpdate
from orderly.items.service import if_none_match_hits, item_etag, item_read

# POST and PATCH honour Idempotency-Key (SPEC "Idempotency").
router = APIRouter(
    prefix="/items",
    tags=["items"],
    responses=AUTHENTICATED,
    dependencies=[Depends(idempotency_guard)],
)

Search = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="Part of the name or SKU, any case."),
]


def _tagged(response: Response, item: Item) -> ItemRead:
    response.headers["ETag"] = item_etag(item)
    return item_read(item)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an item to the catalog",
    responses=problems(409),
)
async def create_item(
    body: ItemCreate, items: ItemWriters, request: Request, response: Response
) -> ItemRead:
    item = await items.create(body)
    response.headers["Location"] = str(request.app.url_path_for("get_item", item_id=item.id))
    return _tagged(response, item)


@router.get("", summary="List the catalog, newest first")
async def list_items(
    items: ItemReaders,
    limit: Limit = 20,
    cursor: Cursor = None,
    q: Search = None,
    active: Annotated[bool | None, Query(description="false: archived items only.")] = None,
    in_stock: Annotated[bool | None, Query(description="false: sold-out items only.")] = None,
) -> Page[ItemRead]:
    filters = ItemFilters(q=q, active=active, in_stock=in_stock)
    return await items.list(filters, limit=limit, cursor=cursor)


@router.get(
    "/{item_id}",
    summary="One item (conditional with If-None-Match)",
    response_model=ItemRead,
    responses=problems(304, 404),
)
async def get_item(
    item_id: str, items: ItemReaders, response: Response, if_none_match: IfNoneMatch = None
) -> ItemRead | Response:
    item = await items.get(item_id)
    etag = item_etag(item)
    if if_none_match_hits(if_none_match, etag):
        # A 304 carries the headers the 200 would have (ETag, caching ones set by
        # dependencies on ``response``); FastAPI sends a returned Response as it is.
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers | {"ETag": etag})
    return _tagged(response, item)


@router.patch(
    "/{item_id}",
    summary="Change an item (conditional with If-Match)",
    description="Only the fields sent change. A new `currency` re-expresses the current "
    "price unless a `price` is sent too. A stale `If-Match` changes nothing (412).",
    responses=problems(404, 409, 412),
)
async def update_item(
    item_id: str,
    body: ItemUpdate,
    items: ItemWriters,
    response: Response,
    if_match: IfMatch = None,
) -> ItemRead:
    return _tagged(response, await items.update(item_id, body, if_match=if_match))


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive an item (it stays readable but can no longer be ordered)",
    responses=problems(404),
)
async def archive_item(item_id: str, items: ItemWriters) -> None:
    await items.archive(item_id)

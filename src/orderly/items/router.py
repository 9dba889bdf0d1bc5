from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import TypeAdapter

from orderly.core.dependencies import AppResources
from orderly.core.pagination import Cursor, Limit, Page
from orderly.core.response_cache import CachedBody, ResponseCache
from orderly.core.responses import AUTHENTICATED, TENANT_DATA_HEADERS, problems
from orderly.idempotency.dependencies import idempotency_guard
from orderly.items.dependencies import IfMatch, IfNoneMatch, ItemReaders, ItemWriters
from orderly.items.models import Item
from orderly.items.repository import ItemFilters
from orderly.items.schemas import ItemCreate, ItemRead, ItemUpdate
from orderly.items.service import CACHE_NAMESPACE, if_none_match_hits, item_etag, item_read

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


# Hot reads are served from the response cache (see core/response_cache.py): the body
# is serialized once, in Rust, and sent as bytes; writes invalidate it on commit.
PAGE_JSON = TypeAdapter(Page[ItemRead])
ITEM_JSON = TypeAdapter(ItemRead)


async def _cache(resources: AppResources) -> ResponseCache:
    return resources.response_cache


Cache = Annotated[ResponseCache, Depends(_cache)]


def _json(body: bytes, *, etag: str | None = None) -> Response:
    headers = TENANT_DATA_HEADERS | ({"ETag": etag} if etag else {})
    return Response(body, media_type="application/json", headers=headers)


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


@router.get(
    "",
    summary="List the catalog, newest first",
    response_model=Page[ItemRead],
    responses=problems(422),
)
async def list_items(
    items: ItemReaders,
    cache: Cache,
    request: Request,
    limit: Limit = 20,
    cursor: Cursor = None,
    q: Search = None,
    active: Annotated[bool | None, Query(description="false: archived items only.")] = None,
    in_stock: Annotated[bool | None, Query(description="false: sold-out items only.")] = None,
) -> Response:
    tenant_id = items.principal.tenant_id
    variant = "list?" + "&".join(sorted(f"{k}={v}" for k, v in request.query_params.items()))
    seen = await cache.lookup(CACHE_NAMESPACE, tenant_id, variant) if cache.enabled else None
    if seen is not None and seen.hit is not None:
        return _json(seen.hit.body)
    filters = ItemFilters(q=q, active=active, in_stock=in_stock)
    body = PAGE_JSON.dump_json(await items.list(filters, limit=limit, cursor=cursor))
    if seen is not None:
        await cache.store(CACHE_NAMESPACE, tenant_id, variant, seen, CachedBody(None, body))
    return _json(body)


@router.get(
    "/{item_id}",
    summary="One item (conditional with If-None-Match)",
    response_model=ItemRead,
    responses=problems(304, 404),
)
async def get_item(
    item_id: str, items: ItemReaders, cache: Cache, if_none_match: IfNoneMatch = None
) -> Response:
    tenant_id = items.principal.tenant_id
    variant = f"item:{item_id}"
    seen = await cache.lookup(CACHE_NAMESPACE, tenant_id, variant) if cache.enabled else None
    if seen is not None and seen.hit is not None:
        cached = seen.hit
    else:
        item = await items.get(item_id)
        cached = CachedBody(item_etag(item), ITEM_JSON.dump_json(item_read(item)))
        if seen is not None:
            await cache.store(CACHE_NAMESPACE, tenant_id, variant, seen, cached)
    etag = cached.etag or ""
    if if_none_match_hits(if_none_match, etag):
        # A 304 carries the headers the 200 would have (ETag and the caching ones).
        return Response(status_code=304, headers=TENANT_DATA_HEADERS | {"ETag": etag})
    return _json(cached.body, etag=etag)


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

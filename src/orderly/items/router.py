from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter

from orderly.core.access import SCOPE_GUARD_ERRORS, get_principal
from orderly.core.cached_reads import cache_variant, cached_response, direct_read
from orderly.core.container import container_of
from orderly.core.errors import InsufficientScopeError, PreconditionFailedError
from orderly.core.pagination import (
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    Cursor,
    InvalidCursorError,
    Limit,
    Page,
)
from orderly.core.response_cache import RESPONSE_CACHE, CachedBody
from orderly.core.responses import NOT_MODIFIED, problems, with_headers
from orderly.core.schemas import NoNul
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.items.dependencies import (
    CatalogReads,
    IfMatch,
    IfNoneMatch,
    ItemsReadListing,
    ItemsReadService,
    ItemsWriteService,
)
from orderly.items.exceptions import ConcurrentUpdateError, ItemNotFoundError, SkuConflictError
from orderly.items.models import Item
from orderly.items.repository import ItemFilters
from orderly.items.schemas import ItemCreate, ItemId, ItemRead, ItemUpdate
from orderly.items.service import CACHE_NAMESPACE, ItemListing, item_etag, item_read
from orderly.tenants.exceptions import PlanLimitReachedError

# POST and PATCH honour Idempotency-Key (SPEC "Idempotency"). GETs are cached reads
# (core/cached_reads.py): a hit is answered before the dependencies below run.
router = APIRouter(prefix="/items", tags=["items"], route_class=CatalogReads)

Search = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="Part of the name or SKU, any case."),
    NoNul,
]


# Hot reads are served from the response cache (core/response_cache.py): the body is
# serialized once, in Rust, and sent as bytes; writes invalidate it on commit. Hits
# are answered by CatalogReads before these endpoints run; misses come here.
ITEM_JSON = TypeAdapter(ItemRead)
DEFAULT_LIMIT = 20


def _tagged(response: Response, item: Item) -> ItemRead:
    response.headers["ETag"] = item_etag(item)
    return item_read(item)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an item to the catalog",
    responses=with_headers(201, "ETag", "Location")
    | problems(*SCOPE_GUARD_ERRORS, SkuConflictError, PlanLimitReachedError, *IDEMPOTENCY_ERRORS),
    dependencies=[IDEMPOTENT],
)
async def create_item(
    body: ItemCreate, items: ItemsWriteService, request: Request, response: Response
) -> ItemRead:
    item = await items.create(body)
    response.headers["Location"] = str(request.app.url_path_for("get_item", item_id=item.id))
    return _tagged(response, item)


async def _page_response(
    listing: ItemListing, request: Request, filters: ItemFilters, limit: int, cursor: str | None
) -> Response:

    async def page() -> CachedBody:
        return CachedBody(None, await listing.page(filters, limit=limit, cursor=cursor))

    cache = container_of(request)[RESPONSE_CACHE]
    tenant_id = listing.principal.tenant_id
    cached = await cache.fetch(CACHE_NAMESPACE, tenant_id, cache_variant(request), page)
    return cached_response(cached, None)


_PLAIN_PAGE_PARAMETERS = frozenset({"limit", "cursor"})
_NO_FILTERS = ItemFilters()


def _plain_limit(raw: str | None) -> int | None:
    """``limit`` as written by clients that need no validation message: 1-100 in plain
    ASCII digits, no leading zero (absent: the default). Anything else: None."""
    if raw is None:
        return DEFAULT_LIMIT
    if 0 < len(raw) <= 3 and raw.isascii() and raw.isdigit() and raw[0] != "0":
        limit = int(raw)
        return limit if limit <= MAX_LIMIT else None
    return None


async def plain_page(request: Request, tenant_id: str) -> Response | None:
    """The direct read of ``list_items`` (core/cached_reads.py): a page asked for with at
    most one ``limit`` (canonical) and one ``cursor`` (within its bound), which the
    route would validate to the same values, answered by the same ``_page_response``.
    ``authorize`` has applied the route's guard; the principal is the request's."""
    query = request.query_params
    if not _PLAIN_PAGE_PARAMETERS.issuperset(query) or len(query.multi_items()) != len(query):
        return None
    limit = _plain_limit(query.get("limit"))
    cursor = query.get("cursor")
    if limit is None or (cursor is not None and len(cursor) > MAX_CURSOR_LENGTH):
        return None
    listing = ItemListing(await get_principal(request), container_of(request))
    return await _page_response(listing, request, _NO_FILTERS, limit, cursor)


@router.get(
    "",
    summary="List the catalog, newest first",
    response_model=Page[ItemRead],
    responses=problems(InsufficientScopeError, InvalidCursorError),
)
@direct_read(plain_page)
async def list_items(
    listing: ItemsReadListing,
    request: Request,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    q: Search = None,
    active: Annotated[bool | None, Query(description="false: archived items only.")] = None,
    in_stock: Annotated[bool | None, Query(description="false: sold-out items only.")] = None,
) -> Response:
    filters = ItemFilters(q=q, active=active, in_stock=in_stock)
    return await _page_response(listing, request, filters, limit, cursor)


@router.get(
    "/{item_id}",
    summary="One item (conditional with If-None-Match)",
    response_model=ItemRead,
    responses=with_headers(200, "ETag")
    | NOT_MODIFIED
    | problems(InsufficientScopeError, ItemNotFoundError),
)
async def get_item(
    item_id: ItemId, items: ItemsReadService, request: Request, if_none_match: IfNoneMatch = None
) -> Response:

    async def item() -> CachedBody:
        found = await items.get(item_id)
        return CachedBody(item_etag(found), ITEM_JSON.dump_json(item_read(found)))

    cache = container_of(request)[RESPONSE_CACHE]
    tenant_id = items.tenant_id
    cached = await cache.fetch(CACHE_NAMESPACE, tenant_id, cache_variant(request), item)
    return cached_response(cached, if_none_match)


@router.patch(
    "/{item_id}",
    summary="Change an item (conditional with If-Match)",
    description="Only the fields sent change. A new `currency` re-expresses the current "
    "price unless a `price` is sent too. A stale `If-Match` changes nothing (412).",
    responses=with_headers(200, "ETag")
    | problems(
        *SCOPE_GUARD_ERRORS,
        ItemNotFoundError,
        SkuConflictError,
        ConcurrentUpdateError,
        PreconditionFailedError,
        *IDEMPOTENCY_ERRORS,
    ),
    dependencies=[IDEMPOTENT],
)
async def update_item(
    item_id: ItemId,
    body: ItemUpdate,
    items: ItemsWriteService,
    response: Response,
    if_match: IfMatch = None,
) -> ItemRead:
    return _tagged(response, await items.update(item_id, body, if_match=if_match))


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Archive an item (it stays readable but can no longer be ordered)",
    responses=problems(*SCOPE_GUARD_ERRORS, ItemNotFoundError),
)
async def archive_item(item_id: ItemId, items: ItemsWriteService) -> None:
    await items.archive(item_id)

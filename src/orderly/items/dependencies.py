"""Who may read and write the catalog, and the services bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from orderly.core.access import authorize, get_principal, guard_of, require_scope
from orderly.core.cached_reads import CachedReadRoute
from orderly.core.dependencies import reader, service, tenant_data_headers
from orderly.core.identity import Principal, Role, Scope
from orderly.items.service import CACHE_NAMESPACE, ItemListing, ItemService

# Any user may read the catalog; staff change it. API keys by scope.
ItemsRead = Annotated[Principal, Depends(require_scope(Scope.READ_ITEMS))]
ItemsWrite = Annotated[
    Principal, Depends(require_scope(Scope.WRITE_ITEMS, roles=(Role.OWNER, Role.ADMIN)))
]

ItemsReadService = Annotated[ItemService, service(ItemService, ItemsRead)]
ItemsWriteService = Annotated[ItemService, service(ItemService, ItemsWrite)]
# A catalog page needs no unit of work (see ItemListing).
ItemsReadListing = Annotated[ItemListing, reader(ItemListing, ItemsRead)]

# A header line is at most 8 KiB (core/http_protocol.py): the bound refuses nothing the
# server would otherwise read, and tells clients and contract testers where it lies.
MAX_CONDITION_LENGTH = 8 * 1024
IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=MAX_CONDITION_LENGTH,
        description="ETags of copies the client holds (or `*`): 304 if one is current.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=MAX_CONDITION_LENGTH,
        description="The ETag the change is based on: 412 if the item changed since.",
    ),
]

_may_read_items = guard_of(ItemsRead)


class CatalogReads(CachedReadRoute):
    """Catalog GETs: a cache hit is answered after the same authentication and the
    same ``read:items`` guard as ``ItemsRead``, before the other dependencies."""

    namespace = CACHE_NAMESPACE
    replicates = frozenset({get_principal, tenant_data_headers})

    async def authorize(self, request: Request) -> str:
        return (await authorize(request, _may_read_items)).tenant_id

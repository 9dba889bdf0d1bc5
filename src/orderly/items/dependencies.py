"""Who may read and write the catalog, and the services bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from orderly.auth.dependencies import require_scope
from orderly.auth.principal import Principal, Role, Scope
from orderly.core.dependencies import AppResources, DbSession
from orderly.items.service import ItemService

# Any user may read the catalog; staff change it. API keys by scope.
ItemReader = Annotated[Principal, Depends(require_scope(Scope.READ_ITEMS))]
ItemWriter = Annotated[
    Principal, Depends(require_scope(Scope.WRITE_ITEMS, roles=(Role.OWNER, Role.ADMIN)))
]


async def _reading(
    session: DbSession, principal: ItemReader, resources: AppResources
) -> ItemService:
    return ItemService(session, principal, resources.cursors)


async def _writing(
    session: DbSession, principal: ItemWriter, resources: AppResources
) -> ItemService:
    return ItemService(session, principal, resources.cursors)


ItemReaders = Annotated[ItemService, Depends(_reading)]
ItemWriters = Annotated[ItemService, Depends(_writing)]

IfNoneMatch = Annotated[
    str | None,
    Header(description="ETags of copies the client holds (or `*`): 304 if one is current."),
]
IfMatch = Annotated[
    str | None,
    Header(description="The ETag the change is based on: 412 if the item changed since."),
]

"""Who may read events, and the services bound to them. Every authenticated caller
gets in; what each one sees is decided by ``filters.visibility_of`` (403 when nothing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import CurrentPrincipal
from orderly.core.dependencies import reader, service
from orderly.core.identity import Principal
from orderly.live.service import EventsService, StreamService


async def any_caller(principal: CurrentPrincipal) -> Principal:
    return principal


EventsReader = Annotated[Principal, Depends(any_caller)]

EventsReadService = Annotated[EventsService, service(EventsService, EventsReader)]
# Streams open a unit of work only for each replay read, never for the connection.
Streams = Annotated[StreamService, reader(StreamService, EventsReader)]

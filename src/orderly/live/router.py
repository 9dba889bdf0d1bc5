"""``/events`` (pages by seq), ``/events/stream`` (SSE), ``/ws/tickets``; the
WebSocket itself is ``socket_router`` (authenticated by its handler, before accept)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, WebSocket, status
from pydantic import Field
from sse_starlette import EventSourceResponse

from orderly.core.container import container_of
from orderly.core.pagination import Limit
from orderly.core.responses import Responses, problems
from orderly.core.schemas import NoNul
from orderly.live.dependencies import EventsReadService, Streams
from orderly.live.exceptions import (
    InvalidLastEventIdError,
    InvalidTypeFilterError,
    NoVisibleEventsError,
)
from orderly.live.filters import TypePatterns
from orderly.live.schemas import EventPage, TicketRead
from orderly.live.tickets import TICKET_TTL_SECONDS, WS_TICKETS
from orderly.live.websocket import credential_expiry, serve_socket

MAX_SEQ = 2**63 - 1

router = APIRouter(tags=["events"])
socket_router = APIRouter(tags=["events"])

After = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_SEQ,
        description="Events with a greater `seq` (0: the oldest kept).",
        json_schema_extra={"format": "int64"},
    ),
]
TypeFilter = Annotated[
    str | None,
    Query(
        alias="type",
        max_length=512,
        description="Event types or `*` patterns, comma-separated: `order.*,item.stock_low`.",
        examples=["order.*"],
    ),
    NoNul,
]
LastEventId = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        max_length=32,
        description="The `id` of the last event received; the stream resumes after it "
        "(wins over `after`).",
    ),
]


@router.get(
    "/events",
    summary="Events in seq order (kept 30 days)",
    description="Ascending by `seq`. Only the events the caller may see: `order.*` needs "
    "`read:orders` (a member sees their own orders'), `item.*` `read:items`, `tenant.*` "
    "and `webhook.*` owners and admins. A caller who may see none → 403.",
    responses=problems(NoVisibleEventsError, InvalidTypeFilterError),
)
async def list_events(
    events: EventsReadService,
    after: After = 0,
    type_filter: TypeFilter = None,
    limit: Limit = 20,
) -> EventPage:
    return await events.list(after=after, types=type_filter, limit=limit)


SSE_RESPONSE: Responses = {
    200: {
        "description": "`text/event-stream`: `id:` the seq, `event:` the type, `data:` the "
        "event object; a comment heartbeat every 15 s.",
        # No schema: a stream of frames without end, described above.
        "content": {"text/event-stream": {}},
    }
}


@router.get(
    "/events/stream",
    summary="Live events as Server-Sent Events",
    description="Resumes after `Last-Event-ID` (or `after`) with exactly the missed events, "
    "then live ones; without either, live events from now. Same visibility as `/events`.",
    response_class=EventSourceResponse,
    responses=SSE_RESPONSE
    | problems(NoVisibleEventsError, InvalidTypeFilterError, InvalidLastEventIdError),
)
async def stream_events(
    streams: Streams,
    after: Annotated[
        Annotated[int, Field(ge=0, le=MAX_SEQ, json_schema_extra={"format": "int64"})] | None,
        Query(description="Resume after this seq."),
    ] = None,
    type_filter: TypeFilter = None,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    if last_event_id is not None:
        text = last_event_id.strip()
        if not text.isascii() or not text.isdigit() or int(text) > MAX_SEQ:
            raise InvalidLastEventIdError
        after = int(text)
    feed = streams.feed(TypePatterns.parse(type_filter))
    return EventSourceResponse(
        streams.frames(feed, after), ping=streams.options.heartbeat_seconds, sep="\n"
    )


@router.post(
    "/ws/tickets",
    status_code=status.HTTP_201_CREATED,
    summary="A single-use ticket to open the WebSocket from a browser",
    description="Connect within 30 s with `GET /api/v1/ws?ticket=…`; it acts for the caller "
    "that asked for it. Not idempotent: a ticket is a credential, never stored in a "
    "replay.",
    responses=problems(NoVisibleEventsError),
)
async def create_ticket(request: Request, streams: Streams, response: Response) -> TicketRead:
    streams.feed(None)  # 403 now rather than a refused socket later
    container = container_of(request)
    ticket = await container[WS_TICKETS].issue(
        streams.principal, await credential_expiry(request, container)
    )
    response.headers["Cache-Control"] = "no-store"  # a credential (RFC 6749 5.1)
    return TicketRead(ticket=ticket, expires_in=TICKET_TTL_SECONDS)


@socket_router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    await serve_socket(websocket)

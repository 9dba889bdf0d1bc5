"""One client's live stream, the same for SSE and WebSocket.

The order is what makes "no gap, no duplicate at the seam" hold:

1. subscribe to the hub FIRST, so that anything published from now on is queued
   (for a stream "from now", the newest ``seq`` is read just before: ``start_after``);
2. replay from the database what the client has not seen (``after < seq <= M``, with
   M the highest published ``seq`` when the replay starts), page by page;
3. then live events: those with ``seq <= cursor`` were in the replay and are dropped;
   an event whose run of consecutive seqs (``Subscription``) does not reach back to
   ``cursor`` means something was missed here, and the database fills the gap.

``cursor`` is the highest ``seq`` of the tenant considered so far (sent, or not for
this client), so the filter never looks like a gap. A unit of work is open only while
a page is read: an idle stream holds no database connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from orderly.core.container import Container
from orderly.core.identity import Principal
from orderly.core.unit_of_work import unit_of_work
from orderly.live.filters import EventFilter
from orderly.live.hub import LiveEvent, Signal, Subscription
from orderly.live.repository import EventFeedRepository, filter_clause

REPLAY_PAGE = 200


class ClientTooSlowError(Exception):
    """More than ``max_pending`` events waited for a client that does not read."""


class LiveFeed:
    def __init__(
        self,
        container: Container,
        principal: Principal,
        event_filter: EventFilter,
        *,
        overflow_is_fatal: bool = False,
    ) -> None:
        self._container = container
        self._principal = principal
        self.filter = event_filter
        self._where = filter_clause(event_filter)
        self._overflow_is_fatal = overflow_is_fatal
        self.cursor = 0

    def wants(self, event: LiveEvent) -> bool:
        return self.filter.matches(event.type, event.owner)

    async def _last_seq(self) -> int:
        async with unit_of_work(self._container, self._principal, write=False) as uow:
            return await EventFeedRepository(uow.session, self._principal.tenant_id).last_seq()

    async def _page(self, upto: int) -> list[LiveEvent]:
        async with unit_of_work(self._container, self._principal, write=False) as uow:
            repository = EventFeedRepository(uow.session, self._principal.tenant_id)
            rows = await repository.after(
                self._where, after=self.cursor, limit=REPLAY_PAGE, upto=upto
            )
        return [LiveEvent.of(row) for row in rows]

    async def replay(self) -> AsyncIterator[list[LiveEvent]]:
        """The database's events after ``cursor``, up to the newest published now."""
        newest = await self._last_seq()
        while self.cursor < newest:
            page = await self._page(newest)
            if page:
                self.cursor = page[-1].seq
                yield page
            if len(page) < REPLAY_PAGE:
                break
        self.cursor = max(self.cursor, newest)

    async def start_after(self, after: int | None) -> int:
        """Where a stream starts: ``after``, or (None) the newest event now. Read
        BEFORE subscribing: an event published in between then shows as a gap and is
        read back, where reading it after subscribing would drop it as already seen."""
        return await self._last_seq() if after is None else after

    async def batches(
        self, subscription: Subscription, after: int
    ) -> AsyncIterator[list[LiveEvent]]:
        """Events after ``after`` for the client, in ``seq`` order, each once; runs
        until cancelled. ``subscription`` must be open before this starts."""
        self.cursor = after
        async for page in self.replay():
            yield page
        while True:
            got = await subscription.next()
            if isinstance(got, Signal):
                if got is Signal.OVERFLOW and self._overflow_is_fatal:
                    raise ClientTooSlowError
                async for page in self.replay():
                    yield page
            else:
                async for batch in self._live(got):
                    yield batch

    async def _live(self, got: list[tuple[LiveEvent, int]]) -> AsyncIterator[list[LiveEvent]]:
        batch: list[LiveEvent] = []
        for event, chain in got:
            if event.seq <= self.cursor:
                continue  # sent by a replay already
            if chain - 1 > self.cursor:  # a seq after cursor never reached us: re-read
                if batch:
                    yield batch
                    batch = []
                async for page in self.replay():
                    yield page
                if event.seq <= self.cursor:
                    continue
            batch.append(event)
            self.cursor = event.seq
        if batch:
            yield batch

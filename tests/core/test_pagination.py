"""One cursor page, the same for every list: ``CursorCodec.page``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from orderly.core.pagination import CursorCodec, InvalidCursorError, Position

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: str
    created_at: datetime


ROWS = [Row(f"row_{n:02d}", START - timedelta(minutes=n)) for n in range(5)]  # newest first


class Fetches:
    """A list of five rows, keyset-read as a repository would; remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Position | None, int]] = []

    async def __call__(self, after: Position | None, rows: int) -> Sequence[Row]:
        self.calls.append((after, rows))
        later = [
            r for r in ROWS if after is None or (r.created_at, r.id) < (after.created_at, after.id)
        ]
        return later[:rows]


async def _walk(codec: CursorCodec, fetch: Fetches, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        rows, cursor = await codec.page("things", fetch, limit=limit, cursor=cursor)
        pages.append([row.id for row in rows])
        if cursor is None:
            return pages


async def test_pages_follow_each_other_until_the_last_has_no_cursor() -> None:
    pages = await _walk(CursorCodec("secret"), Fetches(), limit=2)
    assert pages == [["row_00", "row_01"], ["row_02", "row_03"], ["row_04"]]


async def test_each_fetch_asks_for_one_row_more_than_the_page_after_the_last_row() -> None:
    fetch = Fetches()
    await _walk(CursorCodec("secret"), fetch, limit=2)
    assert fetch.calls == [
        (None, 3),
        (Position(ROWS[1].created_at, ROWS[1].id), 3),
        (Position(ROWS[3].created_at, ROWS[3].id), 3),
    ]


async def test_a_page_that_ends_the_list_exactly_has_no_next_cursor() -> None:
    rows, cursor = await CursorCodec("secret").page("things", Fetches(), limit=5, cursor=None)
    assert (len(rows), cursor) == (5, None)


async def test_a_cursor_of_another_list_is_refused_before_any_read() -> None:
    codec, fetch = CursorCodec("secret"), Fetches()
    _, cursor = await codec.page("other-things", fetch, limit=1, cursor=None)
    with pytest.raises(InvalidCursorError):
        await codec.page("things", fetch, limit=1, cursor=cursor)
    assert len(fetch.calls) == 1


async def test_a_cursor_signed_with_another_key_is_refused() -> None:
    _, cursor = await CursorCodec("old").page("things", Fetches(), limit=1, cursor=None)
    with pytest.raises(InvalidCursorError):
        await CursorCodec("new").page("things", Fetches(), limit=1, cursor=cursor)

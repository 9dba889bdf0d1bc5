"""Cursor pagination shared by every list.

A cursor is the (created_at, id) of the last row of a page, bound to the list it came
from and signed with HMAC, so a client can neither forge one nor carry it to another
list. Pages are keyset queries on ``(created_at DESC, id DESC)``: stable under
concurrent inserts (new rows sort before the cursor and never shift a page).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, Protocol, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from orderly.core.container import Key
from orderly.core.errors import FieldError, ValidationFailedError
from orderly.core.schemas import shown_text

T = TypeVar("T")

MAX_LIMIT = 100

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description="Page size (1-100).",
        examples=[20],
        json_schema_extra={"format": "int32"},
    ),
]
MAX_CURSOR_LENGTH = 512
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; omit for the first.",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(json_schema_extra={"maxItems": MAX_LIMIT})
    next_cursor: (
        Annotated[str, shown_text(MAX_CURSOR_LENGTH, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
        | None
    ) = Field(description="Pass as `cursor` to get the next page; null on the last page.")


@dataclass(frozen=True, slots=True)
class Position:
    created_at: datetime
    id: str


class Keyed(Protocol):
    """A listed row: ORM object or plain row, keyed by ``(created_at, id)``."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Keyed)
# Reads the page after a position (None: the first), with one row more than asked for.
FetchPage = Callable[[Position | None, int], Awaitable[Sequence[R]]]


def cut(rows: Sequence[R], limit: int) -> tuple[Sequence[R], Position | None]:
    """Rows fetched with one extra: the page, and where the next starts (None: last)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, Position(rows[-1].created_at, rows[-1].id)


class InvalidCursorError(ValidationFailedError):
    code = "INVALID_CURSOR"
    default_detail = "The cursor is malformed or was not issued for this list."

    def __init__(self) -> None:
        super().__init__(
            errors=[FieldError("query.cursor", "Invalid or tampered cursor", "invalid_cursor")]
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"orderly-cursor:" + secret.encode()).digest()

    def _sign(self, kind: str, payload: bytes) -> bytes:
        return hmac.new(self._key, kind.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]

    def encode(self, kind: str, position: Position) -> str:
        payload = json.dumps(
            [position.created_at.isoformat(), position.id], separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(kind, payload))}"

    def decode(self, kind: str, cursor: str) -> Position:
        try:
            payload_text, signature_text = cursor.split(".", 1)
            payload = _unb64(payload_text)
            if not hmac.compare_digest(_unb64(signature_text), self._sign(kind, payload)):
                raise InvalidCursorError
            created_at, row_id = json.loads(payload)
            return Position(datetime.fromisoformat(created_at), str(row_id))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursorError from exc

    async def page(
        self, kind: str, fetch: FetchPage[R], *, limit: int, cursor: str | None
    ) -> tuple[Sequence[R], str | None]:
        """One page of the list ``kind``: the client's cursor checked (422 when forged or
        another list's), the rows after it, and the cursor of the next page (or None)."""
        after = self.decode(kind, cursor) if cursor else None
        rows, last = cut(await fetch(after, limit + 1), limit)
        return rows, (self.encode(kind, last) if last is not None else None)


CURSORS: Key[CursorCodec] = Key("cursors")

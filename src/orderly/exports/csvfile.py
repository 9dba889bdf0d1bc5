"""The ``orders_csv`` file: one row per order line, cut into chunks of ~64 KiB.

Columns (UTF-8, RFC 4180 quoting, ``\\r\\n`` line ends, a header row first):

order_id, order_created_at (RFC 3339, UTC), order_status, currency, order_total,
user_id, api_key_id, line_number (1, 2, ...), item_id, sku, item_name, quantity,
unit_price, line_total

Money is a decimal string in the order's currency ("12.50"; "1500" for JPY), never a
float; ``line_total`` is ``unit_price`` x ``quantity``. Text a spreadsheet would run as
a formula (a ``sku`` or ``item_name`` starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is written with a leading ``'`` (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from orderly.orders.schemas import OrderRead

CHUNK_BYTES = 64 * 1024
HEADER = (
    "order_id",
    "order_created_at",
    "order_status",
    "currency",
    "order_total",
    "user_id",
    "api_key_id",
    "line_number",
    "item_id",
    "sku",
    "item_name",
    "quantity",
    "unit_price",
    "line_total",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def order_rows(order: OrderRead) -> Iterable[tuple[str, ...]]:
    placed = order.created_at.isoformat()
    for number, line in enumerate(order.lines, start=1):
        line_total = Decimal(line.unit_price) * line.quantity
        yield (
            order.id,
            placed,
            order.status.value,
            order.currency,
            order.total,
            order.user_id or "",
            order.api_key_id or "",
            str(number),
            line.item_id,
            inert(line.sku),
            inert(line.name),
            str(line.quantity),
            line.unit_price,
            str(line_total),
        )


class ChunkedCsv:
    """Rows in, whole chunks of ``chunk_bytes`` out; what is left waits for more rows
    (or ``rest`` at the end). Holds at most one chunk plus one page of rows."""

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.chunk_bytes = chunk_bytes
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\r\n")
        self._pending = bytearray()
        self.rows = 0
        self.byte_size = 0
        self.chunk_count = 0
        self._writer.writerow(HEADER)

    def add(self, orders: Iterable[OrderRead]) -> None:
        for order in orders:
            for row in order_rows(order):
                self._writer.writerow(row)
                self.rows += 1
        self._pending += self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()

    def full_chunks(self) -> list[bytes]:
        size = self.chunk_bytes
        whole = len(self._pending) // size * size
        chunks = [bytes(self._pending[i : i + size]) for i in range(0, whole, size)]
        del self._pending[:whole]
        return self._counted(chunks)

    def rest(self) -> list[bytes]:
        chunks = [bytes(self._pending)] if self._pending else []
        self._pending.clear()
        return self._counted(chunks)

    def _counted(self, chunks: list[bytes]) -> list[bytes]:
        self.chunk_count += len(chunks)
        self.byte_size += sum(len(chunk) for chunk in chunks)
        return chunks

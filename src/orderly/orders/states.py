"""The order state machine, in one table (``TRANSITIONS``).

pending ─┬─► paid ──► fulfilled
         ├─► payment_failed ─┬─► paid
         │                   ├─► cancelled
         │                   └─► expired
         ├─► cancelled
         └─► expired        (unpaid for APP_ORDER_PAYMENT_TTL_SECONDS: orders/tasks.py)
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED, OrderStatus.EXPIRED}
    ),
    OrderStatus.PAYMENT_FAILED: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED}),
    OrderStatus.FULFILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    """States from which ``target`` may be reached (for conditional UPDATEs)."""
    return frozenset(state for state, nexts in TRANSITIONS.items() if target in nexts)

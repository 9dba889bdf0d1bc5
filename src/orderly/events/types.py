"""Event type names: stable strings that webhook subscribers will filter on."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    ITEM_CREATED = "item.created"
    ITEM_UPDATED = "item.updated"
    ITEM_ARCHIVED = "item.archived"
    ITEM_STOCK_LOW = "item.stock_low"
    ORDER_CREATED = "order.created"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_PAID = "order.paid"
    ORDER_FULFILLED = "order.fulfilled"
    WEBHOOK_TEST = "webhook.test"

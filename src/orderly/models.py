"""Imports every domain's models so that ``Base.metadata`` (and Alembic) sees them all."""

from orderly.api_keys.models import ApiKey
from orderly.core.database import Base
from orderly.events.models import Event, EventCounter
from orderly.exports.models import Export, ExportChunk
from orderly.items.models import Item
from orderly.orders.models import Order, OrderLine
from orderly.sessions.models import RefreshToken
from orderly.tenants.models import Tenant
from orderly.users.models import User
from orderly.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "Base",
    "Event",
    "EventCounter",
    "Export",
    "ExportChunk",
    "Item",
    "Order",
    "OrderLine",
    "RefreshToken",
    "Tenant",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]

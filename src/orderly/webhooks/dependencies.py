"""Who may manage webhooks, and the service bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import require_scope
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Role, Scope
from orderly.webhooks.service import WebhookService

# Owners and admins, or an API key with manage:webhooks.
WebhooksManage = Annotated[
    Principal, Depends(require_scope(Scope.MANAGE_WEBHOOKS, roles=(Role.OWNER, Role.ADMIN)))
]

WebhooksManageService = Annotated[WebhookService, service(WebhookService, WebhooksManage)]

"""Who may manage API keys, and the service bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.api_keys.service import ApiKeyService
from orderly.core.access import require_role
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Role

# Owners and admins, as users: a key cannot mint or revoke keys.
ApiKeysManage = Annotated[Principal, Depends(require_role(Role.OWNER, Role.ADMIN))]

ApiKeysManageService = Annotated[ApiKeyService, service(ApiKeyService, ApiKeysManage)]

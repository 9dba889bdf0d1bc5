"""Who may read and change the caller's tenant, and the service bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import require_role
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Role
from orderly.tenants.service import TenantAccountService

# Every user reads their tenant; only its owner renames it or changes its plan.
TenantReader = Annotated[Principal, Depends(require_role(*Role))]
TenantOwner = Annotated[Principal, Depends(require_role(Role.OWNER))]

TenantReadService = Annotated[TenantAccountService, service(TenantAccountService, TenantReader)]
TenantOwnerService = Annotated[TenantAccountService, service(TenantAccountService, TenantOwner)]

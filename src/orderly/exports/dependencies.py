"""Who may export, and the service bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import require_scope
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Role, Scope
from orderly.exports.service import ExportService

# Owners and admins, or an API key with read:orders. A member sees only their own
# orders, and an export is of the whole tenant's: members get 403.
ExportsAccess = Annotated[
    Principal, Depends(require_scope(Scope.READ_ORDERS, roles=(Role.OWNER, Role.ADMIN)))
]

ExportsService = Annotated[ExportService, service(ExportService, ExportsAccess)]

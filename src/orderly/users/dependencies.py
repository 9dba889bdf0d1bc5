"""Who may manage the tenant's users, and the service bound to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from orderly.core.access import require_role
from orderly.core.dependencies import service
from orderly.core.identity import Principal, Role
from orderly.users.service import UserService

# Owners and admins manage users; any user reads themself. API keys neither.
UsersManage = Annotated[Principal, Depends(require_role(Role.OWNER, Role.ADMIN))]
UsersSelf = Annotated[Principal, Depends(require_role(*Role))]

UsersManageService = Annotated[UserService, service(UserService, UsersManage)]
UsersSelfService = Annotated[UserService, service(UserService, UsersSelf)]

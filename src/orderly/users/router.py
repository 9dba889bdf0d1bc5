from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from orderly.auth.dependencies import AnyUser, Staff
from orderly.auth.exceptions import (
    ROLE_GUARD_ERRORS,
    ApiKeyNotAllowedError,
    PasswordCheckBusyError,
)
from orderly.auth.principal import Principal
from orderly.core.dependencies import DbSession
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.resources import get_resources
from orderly.core.responses import problems
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.users.exceptions import (
    EmailTakenError,
    LastOwnerError,
    OwnerRequiredError,
    UserNotFoundError,
)
from orderly.users.schemas import UserCreate, UserId, UserRead, UserUpdate
from orderly.users.service import UserContext, UserService

# POST and PATCH honour Idempotency-Key (SPEC "Idempotency").
router = APIRouter(prefix="/users", tags=["users"])


def _service(session: DbSession, principal: Principal, request: Request) -> UserService:
    resources = get_resources(request)
    settings = resources.settings
    context = UserContext(
        passwords=resources.passwords,
        cursors=resources.cursors,
        revocations=resources.revocations,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
    )
    return UserService(session, principal, context)


async def staff_service(request: Request, session: DbSession, principal: Staff) -> UserService:
    return _service(session, principal, request)


async def self_service(request: Request, session: DbSession, principal: AnyUser) -> UserService:
    return _service(session, principal, request)


StaffUsers = Annotated[UserService, Depends(staff_service)]
SelfUsers = Annotated[UserService, Depends(self_service)]


@router.get("/me", summary="The calling user", responses=problems(ApiKeyNotAllowedError))
async def me(users: SelfUsers) -> UserRead:
    return UserRead.model_validate(await users.me())


@router.get(
    "",
    summary="List the tenant's users (owners and admins)",
    responses=problems(*ROLE_GUARD_ERRORS, InvalidCursorError),
)
async def list_users(
    users: StaffUsers, limit: Limit = 20, cursor: Cursor = None
) -> Page[UserRead]:
    return await users.list(limit=limit, cursor=cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a user to the tenant",
    description="Only an owner may create another owner.",
    responses=problems(
        *ROLE_GUARD_ERRORS,
        OwnerRequiredError,
        EmailTakenError,
        PasswordCheckBusyError,
        *IDEMPOTENCY_ERRORS,
    ),
    dependencies=[IDEMPOTENT],
)
async def create_user(body: UserCreate, users: StaffUsers) -> UserRead:
    return UserRead.model_validate(await users.create(body))


@router.get(
    "/{user_id}", summary="One user", responses=problems(*ROLE_GUARD_ERRORS, UserNotFoundError)
)
async def get_user(user_id: UserId, users: StaffUsers) -> UserRead:
    return UserRead.model_validate(await users.get(user_id))


@router.patch(
    "/{user_id}",
    summary="Change a user's name, role or active flag",
    description="Role changes need an owner. The last active owner can be neither "
    "demoted nor deactivated (409 `LAST_OWNER`). Demoting or deactivating a user ends "
    "their sessions at once.",
    responses=problems(
        *ROLE_GUARD_ERRORS,
        OwnerRequiredError,
        UserNotFoundError,
        LastOwnerError,
        *IDEMPOTENCY_ERRORS,
    ),
    dependencies=[IDEMPOTENT],
)
async def update_user(user_id: UserId, body: UserUpdate, users: StaffUsers) -> UserRead:
    return UserRead.model_validate(await users.update(user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Deactivate a user (their tokens stop working at once)",
    responses=problems(*ROLE_GUARD_ERRORS, OwnerRequiredError, UserNotFoundError, LastOwnerError),
)
async def deactivate_user(user_id: UserId, users: StaffUsers) -> None:
    await users.deactivate(user_id)

from __future__ import annotations

from fastapi import APIRouter, status

from orderly.core.access import ROLE_GUARD_ERRORS, ApiKeyNotAllowedError
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.passwords import PasswordCheckBusyError
from orderly.core.responses import problems
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.users.dependencies import UsersManageService, UsersSelfService
from orderly.users.exceptions import (
    EmailTakenError,
    LastOwnerError,
    OwnerRequiredError,
    UserNotFoundError,
)
from orderly.users.schemas import UserCreate, UserId, UserRead, UserUpdate

# POST and PATCH honour Idempotency-Key (SPEC "Idempotency").
router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", summary="The calling user", responses=problems(ApiKeyNotAllowedError))
async def me(users: UsersSelfService) -> UserRead:
    return UserRead.model_validate(await users.me())


@router.get(
    "",
    summary="List the tenant's users (owners and admins)",
    responses=problems(*ROLE_GUARD_ERRORS, InvalidCursorError),
)
async def list_users(
    users: UsersManageService, limit: Limit = 20, cursor: Cursor = None
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
async def create_user(body: UserCreate, users: UsersManageService) -> UserRead:
    return UserRead.model_validate(await users.create(body))


@router.get(
    "/{user_id}", summary="One user", responses=problems(*ROLE_GUARD_ERRORS, UserNotFoundError)
)
async def get_user(user_id: UserId, users: UsersManageService) -> UserRead:
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
async def update_user(user_id: UserId, body: UserUpdate, users: UsersManageService) -> UserRead:
    return UserRead.model_validate(await users.update(user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Deactivate a user (their tokens stop working at once)",
    responses=problems(*ROLE_GUARD_ERRORS, OwnerRequiredError, UserNotFoundError, LastOwnerError),
)
async def deactivate_user(user_id: UserId, users: UsersManageService) -> None:
    await users.deactivate(user_id)

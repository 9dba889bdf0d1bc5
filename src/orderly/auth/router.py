"""Public authentication routes: the only API routes that take no credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from orderly.auth.exceptions import (
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    PasswordCheckBusyError,
    RefreshTokenReusedError,
)
from orderly.auth.schemas import (
    LoginForm,
    RefreshRequest,
    RegisterRequest,
    Registration,
    TokenPair,
)
from orderly.auth.service import AuthService
from orderly.core.dependencies import DbSession
from orderly.core.resources import get_resources
from orderly.core.responses import problems
from orderly.users.exceptions import EmailTakenError

router = APIRouter(prefix="/auth", tags=["auth"])


async def get_auth_service(request: Request, session: DbSession) -> AuthService:
    resources = get_resources(request)
    return AuthService(
        session,
        resources.passwords,
        resources.access_tokens,
        resources.settings.refresh_token_ttl_seconds,
    )


Auth = Annotated[AuthService, Depends(get_auth_service)]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant (plan free) and its owner",
    responses=problems(EmailTakenError, PasswordCheckBusyError),
)
async def register(body: RegisterRequest, auth: Auth) -> Registration:
    return await auth.register(body)


@router.post(
    "/login",
    summary="Exchange email and password for tokens (OAuth2 password form)",
    description="Under a login storm a login whose password check would wait more than "
    "about a second is refused at once: 503 `PASSWORD_CHECK_BUSY` with `Retry-After`.",
    responses=problems(InvalidCredentialsError, PasswordCheckBusyError),
)
async def login(form: Annotated[LoginForm, Depends()], auth: Auth) -> TokenPair:
    return await auth.login(form.username, form.password)


@router.post(
    "/refresh",
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once. Presenting a spent one again revokes "
    "every token of that login session (401 `REFRESH_TOKEN_REUSED`).",
    responses=problems(InvalidRefreshTokenError, RefreshTokenReusedError),
)
async def refresh(body: RefreshRequest, auth: Auth) -> TokenPair:
    return await auth.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the session of a refresh token",
)
async def logout(body: RefreshRequest, auth: Auth) -> None:
    await auth.logout(body.refresh_token)

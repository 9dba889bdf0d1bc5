"""Public authentication routes: the only API routes that take no credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from orderly.auth.dependencies import AuthPublicService
from orderly.auth.exceptions import InvalidCredentialsError
from orderly.auth.schemas import (
    LoginForm,
    RefreshRequest,
    RegisterRequest,
    Registration,
    TokenPair,
)
from orderly.core.errors import RateLimitedError
from orderly.core.passwords import PasswordCheckBusyError
from orderly.core.responses import problems
from orderly.sessions.exceptions import InvalidRefreshTokenError, RefreshTokenReusedError
from orderly.users.exceptions import EmailTakenError

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant (plan free) and its owner",
    responses=problems(EmailTakenError, PasswordCheckBusyError, RateLimitedError),
)
async def register(body: RegisterRequest, auth: AuthPublicService) -> Registration:
    return await auth.register(body)


@router.post(
    "/login",
    summary="Exchange email and password for tokens (OAuth2 password form)",
    description="Under a login storm a login whose password check would wait more than "
    "about a second is refused at once: 503 `PASSWORD_CHECK_BUSY` with `Retry-After`.",
    responses=problems(InvalidCredentialsError, PasswordCheckBusyError, RateLimitedError),
)
async def login(form: Annotated[LoginForm, Depends()], auth: AuthPublicService) -> TokenPair:
    return await auth.login(form.username, form.password)


@router.post(
    "/refresh",
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once. Presenting a spent one again revokes "
    "every token of that login session (401 `REFRESH_TOKEN_REUSED`).",
    responses=problems(InvalidRefreshTokenError, RefreshTokenReusedError),
)
async def refresh(body: RefreshRequest, auth: AuthPublicService) -> TokenPair:
    return await auth.refresh(body.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the session of a refresh token",
)
async def logout(body: RefreshRequest, auth: AuthPublicService) -> None:
    await auth.logout(body.refresh_token)

"""The auth routes are public: their service is opened for no principal, and they are
rate limited by client IP and account instead (SPEC "Plans and traffic protection"):
login 10 attempts a minute per email and IP and 30 per IP, register 5 per IP.

The checks are route dependencies, so a refused attempt costs no password hash and no
database session (route dependencies are solved before the endpoint's service).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orderly.auth.schemas import LoginForm
from orderly.auth.service import AuthService
from orderly.core.container import container_of
from orderly.core.dependencies import service
from orderly.core.ratelimit import CLIENT_ADDRESSES, RATE_LIMITER, Quota, admit
from orderly.core.security import hash_token

AuthPublicService = Annotated[AuthService, service(AuthService)]

LOGIN_PER_ACCOUNT = Quota("login-account", 10)
LOGIN_PER_IP = Quota("login-ip", 30)
REGISTER_PER_IP = Quota("register-ip", 5)


async def limit_login(request: Request, form: Annotated[LoginForm, Depends()]) -> None:
    """One attempt against the account (email + IP: an attacker elsewhere cannot lock
    the owner out) and against the IP (one IP cannot try many accounts)."""
    container = container_of(request)
    limiter = container[RATE_LIMITER]
    if not limiter.enabled:
        return
    ip = container[CLIENT_ADDRESSES].of(request.scope)
    # Hashed: the store holds no email addresses.
    account = hash_token(f"{form.username.strip().lower()}\n{ip}")
    admit(
        request.scope,
        await limiter.hit(LOGIN_PER_ACCOUNT, f"login:{account}"),
        await limiter.hit(LOGIN_PER_IP, f"login-ip:{ip}"),
    )


async def limit_register(request: Request) -> None:
    container = container_of(request)
    limiter = container[RATE_LIMITER]
    if not limiter.enabled:
        return
    ip = container[CLIENT_ADDRESSES].of(request.scope)
    admit(request.scope, await limiter.hit(REGISTER_PER_IP, f"register:{ip}"))


LOGIN_LIMITS = Depends(limit_login)
REGISTER_LIMITS = Depends(limit_register)

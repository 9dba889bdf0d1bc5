"""Who is calling (``get_principal``) and what they may do (the guards).

Every protected route depends on ``get_principal`` (attached where its router is
included); a route declares what it needs with an auth alias,
``ItemsWrite = Annotated[Principal, Depends(require_scope(...))]``, and gets its
service through that alias (``core.dependencies.service``).

The credentials themselves are checked by the domains that issue them, through two
ports in the container: ``BEARER_TOKENS`` (auth: access tokens) and ``API_KEYS``
(api_keys). This module only reads the headers and applies roles and scopes.

Why ``get_principal`` reads the headers itself instead of depending on the two security
schemes: FastAPI walks a route's whole dependency tree on every request, again under
every dependency that names a shared one (its cache saves the call, not the walk), at
~15-20 us per node on our machines. Keeping it a leaf keeps the hot routes at a handful
of nodes. The schemes document the credentials in OpenAPI (``document_security``).

    UnauthorizedError (401)
    ├── MissingCredentialsError (NOT_AUTHENTICATED)
    ├── InvalidTokenError (INVALID_TOKEN)
    └── InvalidApiKeyError (INVALID_API_KEY)
    ForbiddenError (403)
    ├── RoleRequiredError (FORBIDDEN)
    ├── ApiKeyNotAllowedError (FORBIDDEN)
    └── InsufficientScopeError (INSUFFICIENT_SCOPE, core.errors)
    RateLimitedError (429)
    └── RateLimitExceededError (RATE_LIMITED, core.ratelimit: the principal's quota)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request, params
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from orderly.core.container import Key, container_of
from orderly.core.database_errors import DatabaseUnavailableError
from orderly.core.errors import (
    ForbiddenError,
    InsufficientScopeError,
    RateLimitedError,
    UnauthorizedError,
)
from orderly.core.identity import Principal, Role, Scope
from orderly.core.kvstore.base import StoreUnavailableError
from orderly.core.ratelimit import PRINCIPAL_LIMITS, RateLimitExceededError, admit
from orderly.core.responses import declare


class MissingCredentialsError(UnauthorizedError):
    code = "NOT_AUTHENTICATED"
    default_detail = "Send 'Authorization: Bearer <access token>' or 'X-API-Key: sk_...'."

    def __init__(self) -> None:
        super().__init__()


class InvalidTokenError(UnauthorizedError):
    code = "INVALID_TOKEN"
    default_detail = "The access token is invalid or has expired."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)


class InvalidApiKeyError(UnauthorizedError):
    code = "INVALID_API_KEY"
    default_detail = "The API key is unknown, expired or revoked."

    def __init__(self) -> None:
        super().__init__()


class RoleRequiredError(ForbiddenError):
    code = "FORBIDDEN"
    default_detail = "Your role does not allow this action."

    def __init__(self) -> None:
        super().__init__()


class ApiKeyNotAllowedError(ForbiddenError):
    code = "FORBIDDEN"
    default_detail = "API keys cannot use this endpoint; authenticate as a user."

    def __init__(self) -> None:
        super().__init__()


# What ``get_principal`` and the guards raise, for the errors routes document.
AUTHENTICATION_ERRORS = (
    MissingCredentialsError,
    InvalidTokenError,
    InvalidApiKeyError,
    RateLimitExceededError,
)
ROLE_GUARD_ERRORS = (ApiKeyNotAllowedError, RoleRequiredError)  # require_role
SCOPE_GUARD_ERRORS = (InsufficientScopeError, RoleRequiredError)  # require_scope(roles=...)


class Authenticator(Protocol):
    async def authenticate(self, credential: str) -> Principal:
        """The principal behind ``credential``, or an ``UnauthorizedError``."""
        ...

    async def expires_at(self, credential: str) -> float | None:
        """When ``credential`` stops being accepted (epoch seconds); None if it does
        not expire or is not valid. For what outlives a request (a WebSocket)."""
        ...


BEARER_TOKENS: Key[Authenticator] = Key("access.bearer_tokens")
API_KEYS: Key[Authenticator] = Key("access.api_keys")

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    refreshUrl="/api/v1/auth/refresh",
    auto_error=False,
    scheme_name="Bearer",
    description="Access token (a JWT) from `POST /api/v1/auth/login`, short-lived and "
    "renewed with the single-use refresh token. Verified as RFC8725 advises: only the "
    "configured algorithm is accepted (never `none`), the claims are required and typed, "
    "and a token lives no longer than the configured lifetime, whatever its `exp` says.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="`sk_...` key from `POST /api/v1/api-keys`.",
)
# What ``get_principal`` accepts, in the order it tries them (OpenAPI alternatives).
SECURITY_SCHEMES: tuple[SecurityBase, ...] = (bearer_scheme, api_key_scheme)

# The request's principal, once resolved (cached reads resolve it before dependencies).
PRINCIPAL_SCOPE_KEY = "orderly.principal"


async def get_principal(request: Request) -> Principal:
    """A bearer access token, else an ``X-API-Key`` (read as ``bearer_scheme`` and
    ``api_key_scheme`` would: a non-Bearer ``Authorization`` counts as absent unless
    nothing else is sent, and an empty key as no key)."""
    known = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(known, Principal):
        return known
    principal = await authenticate(request)
    # The per-principal rate limit, here because this is where every protected route
    # (and every cached read, before its dependencies) learns who is calling: once per
    # request, with no second parse of the credentials.
    container = container_of(request)
    if PRINCIPAL_LIMITS in container:
        admit(request.scope, await container[PRINCIPAL_LIMITS].admit(principal))
    request.scope[PRINCIPAL_SCOPE_KEY] = principal
    return principal


async def authenticate(conn: HTTPConnection) -> Principal:
    """The principal behind the credential headers of a request or a WebSocket
    handshake (which must be authenticated before it is accepted)."""
    headers = conn.headers
    authorization = headers.get("authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if authorization and scheme.lower() == "bearer":
        return await container_of(conn)[BEARER_TOKENS].authenticate(token)
    api_key = headers.get("x-api-key")
    if api_key:
        return await container_of(conn)[API_KEYS].authenticate(api_key)
    if authorization is not None:
        raise InvalidTokenError("Use 'Authorization: Bearer <access token>'.")
    raise MissingCredentialsError


# Every authenticated request can fail here: credentials (401), the API-key lookup
# (database) and the revocation check (the shared store, failing closed), and is rate
# limited per principal by plan (SPEC "Plans and traffic protection").
declare(
    get_principal,
    *AUTHENTICATION_ERRORS,
    DatabaseUnavailableError,
    StoreUnavailableError,
    RateLimitedError,
)

CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
PrincipalGuard = Callable[[Principal], Awaitable[Principal]]


def require_role(*roles: Role) -> PrincipalGuard:
    """Users with one of ``roles``; API keys are refused (they have no role)."""
    allowed = frozenset(roles)

    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.is_api_key:
            raise ApiKeyNotAllowedError
        if principal.role not in allowed:
            raise RoleRequiredError
        return principal

    return guard


def require_scope(scope: Scope, *, roles: tuple[Role, ...] = tuple(Role)) -> PrincipalGuard:
    """API keys holding ``scope``, or users with one of ``roles``."""
    allowed = frozenset(roles)

    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.is_api_key:
            if scope not in principal.scopes:
                raise InsufficientScopeError(scope.value)
        elif principal.role not in allowed:
            raise RoleRequiredError
        return principal

    return guard


def guard_of(access: object) -> PrincipalGuard:
    """The guard behind an auth alias, ``Annotated[Principal, Depends(guard)]``."""
    for meta in getattr(access, "__metadata__", ()):
        if isinstance(meta, params.Depends) and meta.dependency is not None:
            guard: PrincipalGuard = meta.dependency
            return guard
    raise TypeError(f"{access!r} is not an auth alias: Annotated[Principal, Depends(guard)]")


async def authorize(request: Request, guard: PrincipalGuard) -> Principal:
    """What FastAPI would resolve for ``Depends(guard)``, without two dependency nodes
    to solve per request (the hot paths call it by hand)."""
    return await guard(await get_principal(request))

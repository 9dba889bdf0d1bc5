"""Resolving and authorizing the caller.

``get_principal`` is the single place where credentials become a ``Principal``;
``require_role`` and ``require_scope`` build the typed guards routes declare.
Access tokens are verified without a database query; API keys are resolved through an
in-process cache and looked up by hash only on a miss.

Why ``get_principal`` reads the headers itself instead of depending on the two security
schemes and the request session: FastAPI walks a route's whole dependency tree on every
request, again under every dependency that names a shared one (its cache saves the
call, not the walk), at ~15-20 us per node on our machines. Each guard below names
``get_principal``, so its subtree is walked once per guard; keeping it a leaf keeps the
hot routes at a handful of nodes. The schemes document the credentials in OpenAPI
(``document_security``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from orderly.api_keys.service import record_use
from orderly.auth.exceptions import (
    ApiKeyNotAllowedError,
    InvalidApiKeyError,
    InvalidTokenError,
    MissingCredentialsError,
    RoleRequiredError,
)
from orderly.auth.principal import Principal, Role, Scope
from orderly.auth.tokens import InvalidTokenError as TokenRejected
from orderly.core.database import Database
from orderly.core.errors import InsufficientScopeError
from orderly.core.resources import Resources, get_resources

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    auto_error=False,
    scheme_name="Bearer",
    description="Access token from `POST /api/v1/auth/login`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="`sk_...` key from `POST /api/v1/api-keys`.",
)
# What ``get_principal`` accepts, in the order it tries them (OpenAPI alternatives).
SECURITY_SCHEMES: tuple[SecurityBase, ...] = (bearer_scheme, api_key_scheme)


async def _from_access_token(resources: Resources, token: str) -> Principal:
    try:
        claims = resources.access_tokens.verify(token)
    except TokenRejected as exc:
        raise InvalidTokenError from exc
    # Fails closed: with the store unreachable this raises StoreUnavailableError (503
    # with Retry-After). Whether the token was revoked (a demoted or deactivated user's)
    # lives only there, and accepting it unchecked would hand revoked powers back for
    # the length of the outage; API keys, resolved from the database, keep working.
    if await resources.revocations.is_revoked(claims.user_id, claims.generation):
        raise InvalidTokenError("The access token was revoked; log in or refresh again.")
    return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, role=claims.role)


async def _record_use(database: Database, key_id: str) -> None:
    async with database.session(write=True) as session:
        await record_use(session, key_id)
        await session.commit()


async def _from_api_key(resources: Resources, raw: str) -> Principal:
    resolved = await resources.api_keys.resolve(resources.database, raw)
    if resolved is None:
        raise InvalidApiKeyError
    if resources.api_keys.claim_use(resolved):
        # In the background, in its own short transaction: a read request stays a read,
        # and this process writes it at most once a minute per key.
        key_id = resolved.principal.id
        resources.tasks.spawn("api-key-last-used", _record_use(resources.database, key_id))
    return resolved.principal


# The request's principal, once resolved (cached reads resolve it before dependencies).
PRINCIPAL_SCOPE_KEY = "orderly.principal"


async def get_principal(request: Request) -> Principal:
    """A bearer access token, else an ``X-API-Key`` (read as ``bearer_scheme`` and
    ``api_key_scheme`` would: a non-Bearer ``Authorization`` counts as absent unless
    nothing else is sent, and an empty key as no key)."""
    known = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(known, Principal):
        return known
    principal = await _authenticate(request)
    request.scope[PRINCIPAL_SCOPE_KEY] = principal
    return principal


async def _authenticate(request: Request) -> Principal:
    resources = get_resources(request)
    headers = request.headers
    authorization = headers.get("authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if authorization and scheme.lower() == "bearer":
        return await _from_access_token(resources, token)
    api_key = headers.get("x-api-key")
    if api_key:
        return await _from_api_key(resources, api_key)
    if authorization is not None:
        raise InvalidTokenError("Use 'Authorization: Bearer <access token>'.")
    raise MissingCredentialsError


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


AnyUser = Annotated[Principal, Depends(require_role(*Role))]
Staff = Annotated[Principal, Depends(require_role(Role.OWNER, Role.ADMIN))]

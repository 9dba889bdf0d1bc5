"""API keys: issued by owners and admins, shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import partial

from orderly.api_keys.exceptions import ApiKeyNotFoundError
from orderly.api_keys.models import ApiKey
from orderly.api_keys.repository import (
    ApiKeyRepository,
    count_live_keys,
    find_key_by_hash,
    touch_last_used,
)
from orderly.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from orderly.core.cache import INVALIDATION_BUS
from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.identity import Principal, Scope
from orderly.core.pagination import CURSORS, Page
from orderly.core.security import hash_token
from orderly.core.unit_of_work import UnitOfWork
from orderly.tenants.gate import PLAN_GATE

KEY_PREFIX = "sk_"
VISIBLE_PREFIX_LENGTH = 11  # "sk_" + 8 characters
CURSOR_KIND = "api-keys"
REVOKED_TOPIC = "api-key"  # InvalidationBus topic; payload: the key's SHA-256
# InvalidationBus topic; payload: the key's id. For what outlives a request: a connected
# WebSocket knows its key's id (also when it came in with a ticket), not its hash.
REVOKED_KEY_ID_TOPIC = "api-key-id"
# last_used_at is informational; refreshing it at most this often keeps API-key
# requests from turning into a write each.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKeyService:
    """The keys of the caller's tenant, managed by its staff."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.uow = uow
        self.principal = uow.principal
        self.cursors = parts[CURSORS]
        self.bus = parts[INVALIDATION_BUS]
        self.plans = parts[PLAN_GATE]
        self.repo = ApiKeyRepository(uow.session, self.principal.tenant_id)

    async def create(self, data: ApiKeyCreate) -> ApiKeyCreated:
        await self.plans.check_count(self.uow, "api_keys", count_live_keys)
        raw = generate_key()
        key = await self.repo.add(
            ApiKey(
                id=new_id("key"),
                name=data.name,
                prefix=raw[:VISIBLE_PREFIX_LENGTH],
                key_hash=hash_token(raw),
                scopes=[scope.value for scope in data.scopes],
                created_by=self.principal.user_id,
                expires_at=data.expires_at,
            )
        )
        return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=raw)

    async def list(self, *, limit: int, cursor: str | None) -> Page[ApiKeyRead]:
        fetch = partial(self.repo.page, self.repo.live())
        rows, next_cursor = await self.cursors.page(CURSOR_KIND, fetch, limit=limit, cursor=cursor)
        return Page[ApiKeyRead](
            items=[ApiKeyRead.model_validate(row) for row in rows], next_cursor=next_cursor
        )

    async def revoke(self, key_id: str) -> ApiKey:
        key = await self.repo.get(key_id)
        if key is None or key.revoked_at is not None:
            raise ApiKeyNotFoundError(key_id)
        key.revoked_at = utcnow()
        await self.uow.session.flush()
        key_hash, revoked_id = key.key_hash, key.id
        # Only once the revocation is committed may caches forget the key; sooner, a
        # concurrent request could cache it again from the not-yet-revoked row.
        self.uow.after_commit(
            lambda: self.bus.publish(REVOKED_TOPIC, key_hash), name="evict_revoked_api_key"
        )
        self.uow.after_commit(
            lambda: self.bus.publish(REVOKED_KEY_ID_TOPIC, revoked_id),
            name="close_revoked_api_key_connections",
        )
        return key


class ApiKeyCredentials:
    """Keys as credentials, before any caller is known: the key names its tenant."""

    def __init__(self, uow: UnitOfWork, parts: Container) -> None:
        self.session = uow.session

    async def live_key(self, raw: str) -> ApiKey | None:
        """The live key behind a raw value, or None (unknown, revoked or expired)."""
        if not raw.startswith(KEY_PREFIX):
            return None
        key = await find_key_by_hash(self.session, hash_token(raw))
        now = utcnow()
        if key is None or key.revoked_at is not None:
            return None
        if key.expires_at is not None and key.expires_at <= now:
            return None
        return key

    async def record_use(self, key_id: str) -> None:
        now = utcnow()
        await touch_last_used(self.session, key_id, now, now - LAST_USED_RESOLUTION)


def principal_for_key(key: ApiKey) -> Principal:
    return Principal(
        tenant_id=key.tenant_id,
        api_key_id=key.id,
        scopes=frozenset(Scope(s) for s in key.scopes if s in Scope._value2member_map_),
    )

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.api_keys.models import ApiKey
from orderly.core.database import utcnow
from orderly.core.repository import TenantRepository


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

    def live(self) -> Select[Any]:
        return self.scoped().where(ApiKey.revoked_at.is_(None))


async def find_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """Authentication look-up: the key itself names the tenant, so this is unscoped."""
    result = await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.scalar_one_or_none()


async def touch_last_used(
    session: AsyncSession, key_id: str, now: datetime, stale: datetime
) -> None:
    """Record use at most once per interval: the condition keeps this a no-op write
    for a key that was already marked recently by another request or process."""
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < stale)
        )
        .values(last_used_at=now)
    )


async def count_live_keys(session: AsyncSession, tenant_id: str) -> int:
    """The tenant's keys that count against its plan: neither revoked nor expired."""
    result = await session.execute(
        select(func.count())
        .select_from(ApiKey)
        .where(
            ApiKey.tenant_id == tenant_id,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > utcnow()),
        )
    )
    return int(result.scalar_one())

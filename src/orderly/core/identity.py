"""Who is calling: a user (JWT) or an integration (API key), always inside one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class Scope(StrEnum):
    READ_ITEMS = "read:items"
    WRITE_ITEMS = "write:items"
    READ_ORDERS = "read:orders"
    WRITE_ORDERS = "write:orders"
    MANAGE_WEBHOOKS = "manage:webhooks"


STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. Exactly one of ``user_id`` / ``api_key_id`` is set.

    Users are governed by ``role``; API keys by ``scopes`` (they have no role).
    """

    tenant_id: str
    user_id: str | None = None
    api_key_id: str | None = None
    role: Role | None = None
    scopes: frozenset[Scope] = frozenset()

    @property
    def id(self) -> str:
        """Stable id of the caller (user id or API key id)."""
        identifier = self.user_id or self.api_key_id
        if identifier is None:  # pragma: no cover - construction guarantees one is set
            raise ValueError("principal without an id")
        return identifier

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def sees_everything_in_tenant(self) -> bool:
        """Owners, admins and API keys see all of the tenant's orders; members their own."""
        return self.is_api_key or self.is_staff

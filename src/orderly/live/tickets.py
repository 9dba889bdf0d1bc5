"""Single-use WebSocket tickets for browsers (which cannot set headers on a socket).

``POST /api/v1/ws/tickets`` (authenticated) stores the caller's principal under the
ticket's hash for ``TICKET_TTL_SECONDS`` in the key-value store (Redis in scale-out,
so any API process accepts it). Connecting with ``?ticket=`` redeems it once: the
first redemption sets a "used" marker with SET NX, so of two concurrent connections
with the same ticket, in one process or two, exactly one gets in. Only a hash of the
ticket is stored; the ticket itself is shown once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass

from orderly.core.container import Key
from orderly.core.identity import Principal, Role, Scope
from orderly.core.kvstore import KeyValueStore

TICKET_TTL_SECONDS = 30
_USED_TTL_MS = 2 * TICKET_TTL_SECONDS * 1000
MAX_TICKET_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Redeemed:
    principal: Principal
    # When the credential that asked for the ticket expires (epoch seconds), if it does.
    expires_at: float | None


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def issue(self, principal: Principal, expires_at: float | None) -> str:
        ticket = f"wst_{secrets.token_urlsafe(32)}"
        record = {
            "tenant_id": principal.tenant_id,
            "user_id": principal.user_id,
            "api_key_id": principal.api_key_id,
            "role": principal.role.value if principal.role is not None else None,
            "scopes": sorted(scope.value for scope in principal.scopes),
            "expires_at": expires_at,
        }
        await self._kv.set(
            f"ws_ticket:{_hash(ticket)}", json.dumps(record).encode(), TICKET_TTL_SECONDS * 1000
        )
        return ticket

    async def redeem(self, ticket: str) -> Redeemed | None:
        """The principal behind ``ticket``, once; None if unknown, expired or used."""
        if not ticket or len(ticket) > MAX_TICKET_LENGTH:
            return None
        digest = _hash(ticket)
        if not await self._kv.set_if_absent(f"ws_ticket_used:{digest}", b"1", _USED_TTL_MS):
            return None
        raw = await self._kv.get(f"ws_ticket:{digest}")
        if raw is None:
            return None
        await self._kv.delete(f"ws_ticket:{digest}")
        record = json.loads(raw)
        expires_at = record.get("expires_at")
        if expires_at is not None and expires_at <= time.time():
            return None
        principal = Principal(
            tenant_id=record["tenant_id"],
            user_id=record["user_id"],
            api_key_id=record["api_key_id"],
            role=Role(record["role"]) if record["role"] is not None else None,
            scopes=frozenset(Scope(scope) for scope in record["scopes"]),
        )
        return Redeemed(principal, expires_at)


WS_TICKETS: Key[TicketStore] = Key("live.ws_tickets")

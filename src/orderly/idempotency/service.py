"""The rules: which requests qualify, what identifies them, what is kept."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass

import structlog

from orderly.core.json_body import is_json_media_type
from orderly.core.kvstore import StoreUnavailableError
from orderly.idempotency.exceptions import (
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    IdempotencyUnavailableError,
    IdempotentReplay,
)
from orderly.idempotency.repository import IdempotencyRepository
from orderly.idempotency.schemas import StoredResponse

IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# What a replay must repeat; per-request headers (X-Request-ID, timing, security
# headers, Content-Length, Content-Encoding) are added again on the way out.
KEPT_HEADERS = frozenset({"content-type", "location", "etag", "cache-control", "vary"})

logger = structlog.get_logger("orderly.idempotency")


def _digest(*parts: str | bytes) -> str:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") never hash alike.
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


def scope_key(*, tenant_id: str, principal_id: str, method: str, path: str, key: str) -> str:
    """Hashed, so a 255-character key of any characters makes a short, safe store key."""
    return _digest(tenant_id, principal_id, method, path, key)


def canonical_body(content_type: str, body: bytes) -> bytes:
    """The same JSON document always gives the same bytes, whatever its spacing or key
    order; anything else is taken as it came."""
    if not is_json_media_type(content_type):
        return body
    try:
        document = json.loads(body)
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    except ValueError:  # not JSON after all (also covers bad UTF-8)
        return body
    except RecursionError:
        # JsonDepthMiddleware refuses such bodies before the guard runs; should one get
        # here anyway, its bytes still identify it.
        return body


def fingerprint(*, method: str, path: str, query: str, body: bytes) -> str:
    # The query string is included: the same key sent with other parameters is another
    # request, and replaying the first one's answer to it would be wrong.
    return _digest(method, path, query, body)


def is_kept(status: int) -> bool:
    """2xx and 4xx are final answers. 409 and 429 say "not now", so a retry must run
    again; 5xx is never kept, so the client may retry (SPEC)."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in (409, 429))


@dataclass(frozen=True, slots=True)
class Claim:
    """This request holds the key: its response is to be stored under ``scope_key``."""

    repository: IdempotencyRepository
    scope_key: str
    fingerprint: str


def _answer(record: StoredResponse, request_fingerprint: str) -> Exception:
    if record.fingerprint != request_fingerprint:
        return IdempotencyKeyReusedError()
    return IdempotentReplay(record)


async def claim(repository: IdempotencyRepository, key: str, request_fingerprint: str) -> Claim:
    """Take the key, or raise: a replay, a reuse (422), "still running" (409), or
    "cannot tell" (503, the store does not answer: fail closed, before any work)."""
    try:
        record = await repository.find(key)
        if record is None:
            if not await repository.lock(key):
                raise IdempotencyInProgressError
            record = await _find_after_locking(repository, key)
            if record is None:
                return Claim(repository, key, request_fingerprint)
            await repository.unlock(key)
    except StoreUnavailableError as exc:
        raise IdempotencyUnavailableError from exc
    raise _answer(record, request_fingerprint)


async def _find_after_locking(
    repository: IdempotencyRepository, key: str
) -> StoredResponse | None:
    # The first request may have stored its record and released the lock between our
    # find and our lock; without this second look it would run twice.
    try:
        return await repository.find(key)
    except StoreUnavailableError:
        with contextlib.suppress(StoreUnavailableError):  # else it expires (LOCK_TTL_MS)
            await repository.unlock(key)
        raise


async def settle(claim: Claim, record: StoredResponse | None) -> None:
    """Store the record (if any), then release the lock, in that order: a retry that
    finds the lock gone must also find the record.

    Store failures are logged, not raised: the work is committed and the response is
    on its way, so failing it now would tell the client the opposite of the truth.
    """
    try:
        if record is not None:
            await claim.repository.save(claim.scope_key, record)
    except Exception:
        logger.exception("idempotency_store_failed")
    try:
        await claim.repository.unlock(claim.scope_key)
    except Exception:  # the lock then expires on its own (LOCK_TTL_MS)
        logger.exception("idempotency_unlock_failed")

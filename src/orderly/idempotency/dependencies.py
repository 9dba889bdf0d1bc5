"""``idempotency_guard``: attach it to authenticated POST and PATCH routes,
``@router.post(..., dependencies=[IDEMPOTENT])`` (not to a whole router: on a GET it
would do nothing, at the price of two dependency nodes per request). It needs
``IdempotencyMiddleware`` in the stack, and does nothing unless the request is a POST
or PATCH with an ``Idempotency-Key`` header."""

from __future__ import annotations

import hashlib
import json

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from orderly.core.access import CurrentPrincipal
from orderly.core.container import container_of
from orderly.core.responses import declare
from orderly.idempotency.exceptions import (
    IDEMPOTENCY_ERRORS,
    IdempotencyKeyInvalidError,
    IdempotencyUnavailableError,
)
from orderly.idempotency.middleware import claim_slot
from orderly.idempotency.repository import IDEMPOTENCY_RECORDS
from orderly.idempotency.service import (
    HEADER,
    IDEMPOTENT_METHODS,
    MAX_KEY_LENGTH,
    canonical_body,
    claim,
    fingerprint,
    scope_key,
)

_FILE_CHUNK = 64 * 1024


async def idempotency_guard(request: Request, principal: CurrentPrincipal) -> None:
    key = request.headers.get(HEADER)
    if key is None or request.method not in IDEMPOTENT_METHODS:
        return
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalidError(len(key), MAX_KEY_LENGTH)
    slot = claim_slot(request.scope)
    repository = container_of(request)[IDEMPOTENCY_RECORDS]
    method, path = request.method, request.url.path
    stored_under = scope_key(
        tenant_id=principal.tenant_id, principal_id=principal.id, method=method, path=path, key=key
    )
    body = canonical_body(request.headers.get("content-type", ""), await _body(request))
    request_fingerprint = fingerprint(method=method, path=path, query=request.url.query, body=body)
    slot.claim = await claim(repository, stored_under, request_fingerprint)


declare(
    idempotency_guard,
    *IDEMPOTENCY_ERRORS,
    IdempotencyUnavailableError,
    success_headers=("X-Idempotent-Replayed",),
    parameters=(
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "description": "Makes a retry safe: the first completed response is kept 24 h "
            'and replayed for the same key and body (SPEC "Idempotency").',
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        },
    ),
)
IDEMPOTENT = Depends(idempotency_guard)


async def _body(request: Request) -> bytes:
    try:
        return await request.body()  # cached: FastAPI read it to parse the JSON body
    except RuntimeError:
        # A form route: FastAPI parsed the stream with ``request.form()``, and Starlette
        # keeps no bytes after that ("Stream consumed"). Fingerprint the parsed form.
        return await _form_bytes(await request.form())


async def _form_bytes(form: FormData) -> bytes:
    parts: list[list[str]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            parts.append([name, value.filename or "", await _file_sha256(value)])
        else:
            parts.append([name, value])
    return json.dumps(parts).encode()


async def _file_sha256(upload: UploadFile) -> str:
    sha = hashlib.sha256()
    while chunk := await upload.read(_FILE_CHUNK):
        sha.update(chunk)
    await upload.seek(0)  # the handler reads it next
    return sha.hexdigest()

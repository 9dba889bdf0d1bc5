"""Idempotency keys for POST and PATCH (SPEC "Idempotency"). Router-less domain.

How a request with ``Idempotency-Key`` flows:

1. ``IdempotencyMiddleware`` (innermost, inside GZip) leaves an empty slot in the scope.
2. ``idempotency_guard`` (on each POST/PATCH route, after authentication) validates the key,
   scopes it to tenant + principal + method + path, fingerprints the body, and then
   replays a stored response, rejects a different body (422), refuses while another
   request holds the key (409), or takes a short lock and fills the slot.
3. When the response completes, the middleware stores it (2xx, or 4xx other than
   409/429) for ``settings.idempotency_ttl_seconds`` and always releases the lock.

Stored bodies are kept for a day, so the guard goes only on authenticated routes.
The public auth routes (register, login, refresh) never carry it: their responses hold
tokens, which must not sit in Redis or memory.
"""

"""The IETF draft's headers on limited routes, and the 429.

Syntax of draft-ietf-httpapi-ratelimit-headers-10 (structured fields, lists of String
items with parameters)::

    RateLimit-Policy: "principal";q=120;w=60
    RateLimit: "principal";r=117;t=42

``q`` is the quota, ``w`` its window in seconds, ``r`` what remains of it and ``t`` the
seconds until the window ends. A route limited by several quotas (login: per account
and per IP) lists every one.

An admitted request's headers wait in its ASGI scope (``HEADERS_SCOPE_KEY``) until
``RequestContextMiddleware`` writes the response head: the check runs where the
principal becomes known, long before any response object exists, and cached reads
answer without one of FastAPI's. A refused request raises ``RateLimitExceededError``,
whose problem+json carries the same headers and ``Retry-After``.
"""

from __future__ import annotations

from starlette.types import Scope

from orderly.core.errors import RateLimitedError
from orderly.core.ratelimit.limiter import Verdict

HEADERS_SCOPE_KEY = "orderly.ratelimit_headers"


class RateLimitExceededError(RateLimitedError):
    """429 ``RATE_LIMITED``: a quota of this window is used up."""

    def __init__(self, verdicts: tuple[Verdict, ...] = ()) -> None:
        exceeded = [v for v in verdicts if not v.allowed]
        retry_after = max((v.reset_seconds for v in exceeded), default=60)
        names = ", ".join(v.quota.name for v in exceeded) or "a quota"
        headers = {"Retry-After": str(retry_after)}
        if verdicts:
            headers |= _fields(verdicts)
        super().__init__(
            f"Rate limit exceeded ({names}); retry in {retry_after} s.", headers=headers
        )


def _fields(verdicts: tuple[Verdict, ...]) -> dict[str, str]:
    if len(verdicts) == 1:
        (verdict,) = verdicts
        return {"RateLimit-Policy": verdict.quota.policy, "RateLimit": verdict.state}
    return {
        "RateLimit-Policy": ", ".join(v.quota.policy for v in verdicts),
        "RateLimit": ", ".join(v.state for v in verdicts),
    }


def admit(scope: Scope, *checked: Verdict | None) -> None:
    """Raise the 429 if any verdict refuses; else leave the headers for the response.
    None (limits off, or the store failed open) adds nothing."""
    if len(checked) == 1:  # the per-principal check, on every request: written out
        (verdict,) = checked
        if verdict is None:
            return
        if verdict.count > verdict.quota.limit:
            raise RateLimitExceededError((verdict,))
        scope[HEADERS_SCOPE_KEY] = [
            (b"ratelimit-policy", verdict.quota.policy_field),
            (b"ratelimit", verdict.state.encode("latin-1")),
        ]
        return
    verdicts = tuple(v for v in checked if v is not None)
    if not verdicts:
        return
    for verdict in verdicts:
        if not verdict.allowed:
            raise RateLimitExceededError(verdicts)
    scope[HEADERS_SCOPE_KEY] = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in _fields(verdicts).items()
    ]

"""Rate limits: fixed one-minute windows counted in-process (embedded) or in Redis
through the ``limits`` library (scale-out), with the IETF draft's headers.

- ``counters``: where a window's hits are counted (``MemoryWindowCounter``,
  ``RedisWindowCounter``);
- ``limiter``: ``RateLimiter``, which turns a hit into a verdict and fails open when
  the counter's store fails;
- ``headers``: ``RateLimit-Policy`` / ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers-10)
  and the 429 ``RateLimitExceededError``;
- ``client_ip``: the socket peer, or ``X-Forwarded-For`` from trusted proxies only.
"""

from orderly.core.ratelimit.client_ip import CLIENT_ADDRESSES, ClientAddresses
from orderly.core.ratelimit.counters import MemoryWindowCounter, RedisWindowCounter, WindowCounter
from orderly.core.ratelimit.headers import HEADERS_SCOPE_KEY, RateLimitExceededError, admit
from orderly.core.ratelimit.limiter import (
    PRINCIPAL_LIMITS,
    RATE_LIMITER,
    PrincipalLimits,
    Quota,
    RateLimiter,
    Verdict,
)

__all__ = [
    "CLIENT_ADDRESSES",
    "HEADERS_SCOPE_KEY",
    "PRINCIPAL_LIMITS",
    "RATE_LIMITER",
    "ClientAddresses",
    "MemoryWindowCounter",
    "PrincipalLimits",
    "Quota",
    "RateLimitExceededError",
    "RateLimiter",
    "RedisWindowCounter",
    "Verdict",
    "WindowCounter",
    "admit",
]

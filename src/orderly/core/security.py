"""Hashing of high-entropy secrets (refresh tokens, API keys) for storage and look-up.

These values carry 256 random bits, so a fast hash is enough: there is nothing to
brute-force, and a fast hash lets the value be found by equality. Passwords are low
entropy and use the slow, salted ``core.passwords`` instead.
"""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """SHA-256 hex digest: what is stored and looked up, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()

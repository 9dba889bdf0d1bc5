"""Conditional requests (RFC 9110 section 13): ETag lists in If-None-Match / If-Match."""

from __future__ import annotations

import re

_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """``(weak, tag)`` pairs of an If-Match / If-None-Match list; malformed parts drop."""
    return [(bool(m.group(1)), m.group(2)) for m in _ENTITY_TAG.finditer(header)]


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """True when the client's copy is current (answer 304). Weak comparison (RFC 9110)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag == etag for _, tag in _entity_tags(header))


def if_match_holds(header: str | None, etag: str) -> bool:
    """True when the write may proceed. Strong comparison: a weak tag never matches."""
    if header is None or header.strip() == "*":
        return True
    return any(not weak and tag == etag for weak, tag in _entity_tags(header))

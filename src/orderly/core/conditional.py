"""Conditional requests (RFC 9110 section 13): ETag lists in If-None-Match / If-Match.

The lists are read by a scanner that only moves forward (``str.find``, ``startswith``
and an anchored run of spaces), so its time is linear in the header's length whatever
the header holds. A regex did this before, and backtracked: ``a`` + 16,000 spaces +
``b`` took 9 s of event-loop CPU.

Grammar (RFC 9110 sections 8.8.3 and 13.1.1-2)::

    If-None-Match = "*" / #entity-tag        entity-tag = [ "W/" ] opaque-tag
    If-Match      = "*" / #entity-tag        opaque-tag = DQUOTE *etagc DQUOTE

``#`` is a comma-separated list with optional whitespace, where empty elements are
allowed. An element that is not an entity tag is skipped up to the next comma, so a
stray token never hides the valid tags around it.

Only the first ``MAX_LIST_ELEMENTS`` elements are read: the scanning itself runs at C
speed, but each element costs a few Python steps, and a header of 8 KiB of commas is
8,000 of them. Clients send one tag, or a few. Stopping early is safe both ways: an
unread tag can only turn a 304 into a full 200 (If-None-Match), or a write into a 412
(If-Match).
"""

from __future__ import annotations

import re

MAX_LIST_ELEMENTS = 32

# One character class, anchored where the scanner stands: nothing to backtrack into.
_OWS = re.compile(r"[ \t]*")


def _skip_ows(header: str, index: int) -> int:
    return _OWS.match(header, index).end()  # type: ignore[union-attr]  # always matches


def _entity_tag_at(header: str, index: int) -> tuple[bool, str, int] | None:
    """``(weak, tag, end)`` of the entity tag starting at ``index``, if one does."""
    weak = header.startswith("W/", index)
    start = index + 2 if weak else index
    if not header.startswith('"', start):
        return None
    close = header.find('"', start + 1)
    if close < 0:
        return None
    return weak, header[start : close + 1], close + 1


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """``(weak, tag)`` pairs of an If-Match / If-None-Match list; malformed parts drop."""
    tags: list[tuple[bool, str]] = []
    index, end = 0, len(header)
    for _ in range(MAX_LIST_ELEMENTS):
        if index >= end:
            break
        index = _skip_ows(header, index)
        found = _entity_tag_at(header, index)
        if found is not None:
            weak, tag, after = found
            after = _skip_ows(header, after)
            if after == end or header[after] == ",":
                tags.append((weak, tag))
                index = after + 1
                continue
        # Not an entity tag followed by a comma or the end: skip the element. Every
        # branch moves ``index`` forward, never back.
        comma = header.find(",", index)
        index = end if comma < 0 else comma + 1
    return tags


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

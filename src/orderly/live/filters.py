"""Which events a caller sees: visibility by resource (SPEC "Events") and the ``type``
filter, decided once per connection and applied the same way everywhere.

``EventFilter.matches`` judges a live event in memory (the hub's fan-out);
``repository.filter_clause`` says the same in SQL (pages and replays). The two must
agree, and the tests compare what a live client and the events API see.

- ``order.*`` needs ``read:orders`` (API keys) or any user; a member sees only the
  events of their own orders (the event's ``data.user_id``);
- ``item.*`` needs ``read:items`` or any user;
- ``tenant.*`` and ``webhook.*``: owners and admins only.
A caller who may see no family at all is refused (403), not served an empty stream.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from orderly.core.identity import Principal, Scope
from orderly.live.exceptions import InvalidTypeFilterError, NoVisibleEventsError

ORDER = "order"
ITEM = "item"
STAFF_FAMILIES = ("tenant", "webhook")
MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 64
# ``order.created``, ``order.*``, ``*``: dot-separated words of [a-z_] or ``*``.
_PATTERN = re.compile(r"^(?:[a-z_]+|\*)(?:\.(?:[a-z_]+|\*))*$")


@dataclass(frozen=True, slots=True)
class Visibility:
    families: frozenset[str]
    # A member's user id: their order events only. None: every order event.
    orders_of: str | None = None


def visibility_of(principal: Principal) -> Visibility:
    """What ``principal`` may see; ``NoVisibleEventsError`` when nothing at all."""
    if principal.is_api_key:
        families = set()
        if Scope.READ_ORDERS in principal.scopes:
            families.add(ORDER)
        if Scope.READ_ITEMS in principal.scopes:
            families.add(ITEM)
        if not families:
            raise NoVisibleEventsError
        return Visibility(frozenset(families))
    families = {ORDER, ITEM}
    if principal.is_staff:
        families.update(STAFF_FAMILIES)
    own = None if principal.sees_everything_in_tenant() else principal.user_id
    return Visibility(frozenset(families), orders_of=own)


@dataclass(frozen=True, slots=True)
class TypePatterns:
    """Exact types or ``*`` patterns; ``*`` stands for any run of characters."""

    patterns: tuple[str, ...]

    @classmethod
    def parse(
        cls, text: str | Sequence[str] | None, field: str = "query.type"
    ) -> TypePatterns | None:
        """None when no filter was asked for; ``InvalidTypeFilterError`` if malformed."""
        if text is None:
            return None
        parts = text.split(",") if isinstance(text, str) else list(text)
        patterns = tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))
        if not patterns or len(patterns) > MAX_PATTERNS:
            raise InvalidTypeFilterError(field)
        for pattern in patterns:
            if len(pattern) > MAX_PATTERN_LENGTH or not _PATTERN.match(pattern):
                raise InvalidTypeFilterError(field)
        return cls(patterns)

    def regex(self) -> re.Pattern[str]:
        alternatives = ("[a-z_.]*".join(map(re.escape, p.split("*"))) for p in self.patterns)
        return re.compile("|".join(f"(?:{a})" for a in alternatives))

    def like_patterns(self) -> list[str]:
        """The patterns as SQL LIKE patterns, escaped with a backslash."""
        return [
            p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
            for p in self.patterns
        ]


class EventFilter:
    """What one connection (or one page) shows: visibility and the ``type`` filter."""

    __slots__ = ("_types", "patterns", "visibility")

    def __init__(self, visibility: Visibility, patterns: TypePatterns | None = None) -> None:
        self.visibility = visibility
        self.patterns = patterns
        self._types = patterns.regex() if patterns is not None else None

    def matches(self, event_type: str, owner: str | None) -> bool:
        """``owner``: the event data's ``user_id`` (order events)."""
        family = event_type.partition(".")[0]
        visibility = self.visibility
        if family not in visibility.families:
            return False
        if family == ORDER and visibility.orders_of is not None and owner != visibility.orders_of:
            return False
        return self._types is None or self._types.fullmatch(event_type) is not None

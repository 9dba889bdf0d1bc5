"""Open WebSockets by the API key they act for, ended when that key is revoked.

A socket is authenticated once, before accept; a key revoked later would otherwise go
on receiving events until the client leaves. ``api_keys`` publishes a revoked key's id
on the invalidation bus once the revocation has committed (``REVOKED_KEY_ID_TOPIC``:
this process at once, every other one over Redis pub/sub), and each process ends its
sockets acting for that key with 4001, as for an expired access token. The id, not the
key's hash: a socket opened with a ticket knows the principal, not the raw key.

A lost pub/sub message (Redis away at that moment) leaves such a socket open until it
reconnects; the key itself is refused everywhere else from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from orderly.core.container import Key

End = Callable[[], None]


class KeyWatch:
    def __init__(self) -> None:
        self._ends: dict[str, set[End]] = {}

    def revoked(self, key_id: str) -> None:
        """The bus's handler: end every socket of this process acting for ``key_id``."""
        for end in list(self._ends.get(key_id, ())):
            end()

    @contextmanager
    def watch(self, key_id: str | None, end: End) -> Iterator[None]:
        """Call ``end`` if ``key_id`` is revoked during the block (None: not a key)."""
        if key_id is None:
            yield
            return
        ends = self._ends.setdefault(key_id, set())
        ends.add(end)
        try:
            yield
        finally:
            ends.discard(end)
            if not ends and self._ends.get(key_id) is ends:
                del self._ends[key_id]

    @property
    def size(self) -> int:
        """Sockets watched in this process (tests: none left behind)."""
        return sum(len(ends) for ends in self._ends.values())


KEY_WATCH: Key[KeyWatch] = Key("live.key_watch")

"""JSON request bodies: which ones are JSON, and how deep they nest.

Python's json module and anything that walks the parsed document recurse once per
level: ~950 levels reached the interpreter's recursion limit (a ``RecursionError``
in the idempotency fingerprint was a 500), and more cost a traceback per request. No
Orderly body nests deeper than 3, so ``MAX_JSON_DEPTH`` leaves ample room.

``nests_deeper_than`` decides without recursion and without a Python step per byte:

1. fewer ``[`` and ``{`` than the limit cannot nest deeper (every real body ends here);
2. escaped backslashes and quotes go, then everything but brackets and quotes, then the
   strings (every other piece between quotes), all in C (``replace``, ``translate``,
   ``split``); what is left is the document's brackets, ``[{`` as ``(``, ``]}`` as ``)``;
3. a run of more than ``limit`` openers is too deep at once (the usual attack);
   otherwise each pass deletes every innermost ``()``, so a well-formed document of
   depth d is gone after exactly d passes, checked for such a run after each pass.

Unbalanced input may be judged too deep where the parser would call it malformed;
either way it is a 422. The scan never says "fine" to a body the parser would recurse
into deeper than the limit. Cost: under 1 us for an order of one line, ~20 us for one
of 50 lines, a few ms per MiB of pathological input (measured in-process).
"""

from __future__ import annotations

MAX_JSON_DEPTH = 32

_KEPT = b'[]{}"'
_DELETED = bytes(byte for byte in range(256) if byte not in _KEPT)
_AS_PARENS = bytes.maketrans(b"[]{}", b"()()")


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, as FastAPI decides to parse."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _brackets_outside_strings(body: bytes) -> bytes:
    if b"\\" in body:
        # Left to right, as a JSON reader pairs them: ``\\`` first, then ``\"``.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = body.translate(_AS_PARENS, _DELETED)
    return b"".join(kept.split(b'"')[::2])  # odd pieces are inside strings


def nests_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    parens = _brackets_outside_strings(body)
    too_deep = b"(" * (limit + 1)
    passes = 0
    while parens and passes <= limit:
        if too_deep in parens:
            return True
        shorter = parens.replace(b"()", b"")
        if len(shorter) == len(parens):
            break  # unbalanced: no innermost pair left
        parens, passes = shorter, passes + 1
    # Well-formed: ``passes`` is the depth and nothing is left. Unbalanced: the openers
    # never closed sit on top of the deepest level the passes saw.
    return passes + parens.count(b"(") > limit

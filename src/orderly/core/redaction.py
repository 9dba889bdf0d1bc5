"""Credentials out of log lines: by key (``password=...``) and by shape (a bearer token
quoted inside an exception's text).

Keys catch what careful code names. Shapes are the last line of defence for what
nobody named: an ``Authorization`` value in a message, an Argon2 hash in a driver's
error, a key in a repr. They run on every string of every log line, so they are built
for Python's regex engine: no branch has nested or overlapping quantifiers (a scan is
linear in the text, whatever a client put in it), and every branch of the credential
pattern starts with a literal character, which lets the engine skip from candidate to
candidate in C instead of trying every branch at every position (measured: 8-10x
faster on a log line's strings than the same shapes led by ``\b`` or ``(?i)``). The
hex-digest shape cannot start with a literal, so it is a pattern of its own, which
the engine rejects at once for strings shorter than a digest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

_SENSITIVE_KEY_MARKERS = (
    "authorization",
    "password",
    "passwd",
    "token",
    "secret",
    "cookie",
    "api_key",
    "api-key",
    "apikey",
)

_CREDENTIAL = re.compile(
    # Authorization values, in the usual spellings of the scheme (a case-insensitive
    # branch would not start with a literal). The scheme is kept.
    r"Bearer[ \t]+[\w.~+/=-]+|bearer[ \t]+[\w.~+/=-]+|BEARER[ \t]+[\w.~+/=-]+"
    r"|Basic[ \t]+[\w.~+/=-]+|basic[ \t]+[\w.~+/=-]+|BASIC[ \t]+[\w.~+/=-]+"
    # API keys, refresh tokens, webhook secrets: ``sk_`` and 43 characters, ... Each
    # prefix must start a word (the look-behind), so ``task_finished`` stays.
    r"|sk_(?<!\wsk_)[\w-]{8,}|rt_(?<!\wrt_)[\w-]{8,}|whsec_(?<!\wwhsec_)[\w-]+"
    # A JWT (``eyJ`` is base64url for ``{"``) with its three parts.
    r"|eyJ(?<!\weyJ)[\w-]+(?:\.[\w-]*)*"
    # Argon2 and bcrypt password hashes (PHC strings).
    r"|\$argon2[\w$=,.+/-]*|\$2[aby]?\$[\w$./]+"
    # The password of a URL (``postgresql://user:password@host``); the user is kept.
    r"|://[^\s/@:]*:[^\s/@]+(?=@)"
)
# SHA-256 digests and longer hex, a whole word: what API-key and refresh-token hashes
# look like. The look-behind after the first digit makes only the start of a run a
# candidate, so a text of many shorter runs is still scanned in linear time.
_DIGEST = re.compile(r"[0-9a-fA-F](?<!\w[0-9a-fA-F])[0-9a-fA-F]{63,}(?!\w)")


def _credential(match: re.Match[str]) -> str:
    value = match.group()
    if value[0] in "Bb":
        return f"{value.split(maxsplit=1)[0]} {REDACTED}"
    if value[0] == ":":
        return value[: value.index(":", 3) + 1] + REDACTED
    return REDACTED


def redact_text(text: str) -> str:
    return _DIGEST.sub(REDACTED, _CREDENTIAL.sub(_credential, text))


def is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SENSITIVE_KEY_MARKERS)


def redact_value(value: Any) -> Any:
    """``value`` fit for a log line: strings scanned, containers walked (values under a
    sensitive key dropped), any other object replaced by its redacted ``repr`` (what
    the renderers would have printed, minus the secrets)."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_sensitive_key(str(key)) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    return redact_text(repr(value))

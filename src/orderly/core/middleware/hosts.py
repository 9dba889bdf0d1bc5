"""Host header allow-list that answers with problem+json (Starlette's answers plain text).

The header is parsed strictly before it is compared (RFC 9110 section 7.2, RFC 3986
section 3.2.2-3): ``host [ ":" port ]`` where host is a name of letters, digits, ``.``,
``-`` and ``_``, or an IPv6 literal in brackets, and port is 1-65535. Anything else is
400 ``INVALID_HOST``: ``api.example.com:evil`` used to pass as ``api.example.com``
(everything after the last colon was dropped unread), and so did ``:99999``.
"""

from __future__ import annotations

import ipaddress
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from orderly.core.problems import problem_response

MAX_NAME_LENGTH = 253  # a DNS name
# One character class over a length-checked string: linear, nothing to backtrack.
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_MAX_PORT = 65535


def _valid_port(port: str) -> bool:
    if not (1 <= len(port) <= 5 and port.isascii() and port.isdigit()):
        return False
    return 1 <= int(port) <= _MAX_PORT


def _ipv6_literal(value: str) -> tuple[str, str] | None:
    """``("[::1]", ":8000")`` from ``"[::1]:8000"``; None unless the brackets hold an
    IPv6 address (no zone: a Host header never carries one)."""
    close = value.find("]")
    if close < 0 or "%" in value[:close]:
        return None
    try:
        ipaddress.IPv6Address(value[1:close])
    except ValueError:
        return None
    return value[: close + 1], value[close + 1 :]


def parse_host(value: str) -> str | None:
    """The lower-cased host of a Host header value, or None when it is malformed."""
    if value.startswith("["):
        literal = _ipv6_literal(value)
        if literal is None:
            return None
        host, rest = literal
    else:
        host, colon, port = value.partition(":")
        rest = colon + port
        if len(host) > MAX_NAME_LENGTH or not _NAME.fullmatch(host):
            return None
    if rest and not (rest.startswith(":") and _valid_port(rest[1:])):
        return None
    return host.lower()


def _host_of(scope: Scope) -> str | None:
    """The request's host; None when the Host header is missing, repeated or malformed
    (RFC 9112 section 3.2: exactly one Host header)."""
    found: list[bytes] = [value for name, value in scope["headers"] if name == b"host"]
    if len(found) != 1:
        return None
    return parse_host(found[0].decode("latin-1"))


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def _allowed(self, host: str | None) -> bool:
        if host is None:
            return False
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(_host_of(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = problem_response(
            status=400,
            code="INVALID_HOST",
            detail="The Host header is not one this service answers to.",
            instance=scope["path"],
        )
        await response(scope, receive, send)

"""The SSRF guard: which addresses a webhook may reach, and the check of a URL.

A webhook URL is checked when the endpoint is saved and again before every delivery:
its host is resolved, **every** address it resolves to is classified, and the delivery
then connects to one of the addresses that passed (``sender.PinnedBackend``), never
to whatever a second DNS look-up would answer (no DNS-rebinding window).

``refusal`` is pure: it names why an address is not a public unicast one, looking
through the IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4,
Teredo), or answers None.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Protocol

import httpx

from orderly.webhooks.exceptions import WebhookUrlNotAllowedError

IPAddress = IPv4Address | IPv6Address

_CGNAT = IPv4Network("100.64.0.0/10")  # RFC 6598 shared address space
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d


def _embedded_ipv4(address: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 one carries, and the form that carries it."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]
    if address in _NAT64:
        return "NAT64", IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are their own
        return "IPv4-compatible", IPv4Address(int(address) & 0xFFFFFFFF)
    return None


_ULA = IPv6Network("fc00::/7")

# Most specific first, so that the reason says what the address is.
_CATEGORIES: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("CGNAT (shared address space)", lambda a: isinstance(a, IPv4Address) and a in _CGNAT),
    ("site-local", lambda a: isinstance(a, IPv6Address) and a.is_site_local),
    ("unique local (private)", lambda a: isinstance(a, IPv6Address) and a in _ULA),
    ("reserved", lambda a: a.is_reserved),
    ("private", lambda a: a.is_private),
    ("not globally routable", lambda a: not a.is_global),
)


def _category(address: IPAddress) -> str | None:
    for name, applies in _CATEGORIES:
        if applies(address):
            return name
    return None


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not receive webhooks (loopback, private, ...), or None."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, inner = embedded
            inner_reason = refusal(inner)
            if inner_reason is not None:
                return f"{form} {inner_reason}"
            if form == "IPv4-compatible":  # deprecated (RFC 4291): nothing routes it
                return "IPv4-compatible (deprecated)"
            if form in ("IPv4-mapped", "NAT64"):
                return None  # the IPv4 address it stands for is public
    return _category(address)


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """Every address ``host`` resolves to (an IP literal is itself); ``OSError``
        when it does not resolve."""
        ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``, in asyncio's thread pool)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        literal = _literal(host)
        if literal is not None:
            return [literal]
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        found: dict[IPAddress, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            found[ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
        if not found:
            raise OSError(f"{host} has no address")
        return list(found)


def _literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL checked for delivery: where to connect (``address``) and what to ask for."""

    url: httpx.URL
    host: str  # as the connection pool and TLS see it (IDNA, no brackets)
    port: int
    address: IPAddress


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allow_private_networks: bool
    require_https: bool


def parse_url(url: str, policy: UrlPolicy) -> tuple[httpx.URL, str, int]:
    """The URL's shape: scheme, host, no credentials. Raises ``WebhookUrlNotAllowedError``."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise WebhookUrlNotAllowedError("it is not a valid URL") from exc
    allowed = ("https",) if policy.require_https else ("http", "https")
    if parsed.scheme not in allowed:
        raise WebhookUrlNotAllowedError(f"the scheme must be {' or '.join(allowed)}")
    if not parsed.raw_host:
        raise WebhookUrlNotAllowedError("it has no host")
    if parsed.userinfo:
        raise WebhookUrlNotAllowedError("it must not carry credentials")
    if parsed.fragment:
        raise WebhookUrlNotAllowedError("it must not have a fragment")
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed, host, port


class UrlGuard:
    def __init__(self, resolver: Resolver, policy: UrlPolicy) -> None:
        self.resolver = resolver
        self.policy = policy

    async def check(self, url: str) -> Target:
        """Resolve the URL's host and check every address; the target to connect to.
        Raises ``WebhookUrlNotAllowedError`` naming the first refused address."""
        parsed, host, port = parse_url(url, self.policy)
        try:
            addresses = await self.resolver.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise WebhookUrlNotAllowedError(f"its host {host} does not resolve") from exc
        if not addresses:
            raise WebhookUrlNotAllowedError(f"its host {host} does not resolve")
        if not self.policy.allow_private_networks:
            for address in addresses:
                reason = refusal(address)
                if reason is not None:
                    raise WebhookUrlNotAllowedError(
                        f"its host {host} resolves to {address}, a {reason} address"
                    )
        return Target(parsed, host, port, addresses[0])

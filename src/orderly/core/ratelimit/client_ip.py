"""The client's IP address: the socket peer, or what trusted proxies say it was.

``X-Forwarded-For`` is read only when the peer is one of ``APP_TRUSTED_PROXIES``
(CIDRs), and then from the right: each proxy appends the address it received the
request from, so the rightmost entry that is not itself a trusted proxy is the client
(anything left of it was written by the client and proves nothing). Without trusted
proxies the header is ignored: any client could otherwise pick a fresh IP per request
and walk past every per-IP limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.types import Scope

from orderly.core.container import Key

UNKNOWN = "unknown"
Address = IPv4Address | IPv6Address


def _parse(text: str) -> Address | None:
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddresses:
    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(cidr.strip(), strict=False) for cidr in trusted_proxies
        )

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self._trusted)

    def of(self, scope: Scope) -> str:
        client = scope.get("client")
        peer_text = str(client[0]) if client else UNKNOWN
        if not self._trusted:
            return peer_text
        peer = _parse(peer_text)
        if peer is None or not self._is_trusted(peer):
            return peer_text
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
        ]
        hops = [hop for value in forwarded for hop in value.split(",")]
        candidate = peer
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:  # garbage: trust nothing further left
                break
            candidate = address
            if not self._is_trusted(address):
                break
        return str(candidate)


CLIENT_ADDRESSES: Key[ClientAddresses] = Key("client_addresses")

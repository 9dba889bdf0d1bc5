"""The SSRF guard's classifier and URL check, on literal addresses and a scripted
resolver only: no traffic."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from orderly.webhooks.addresses import UrlGuard, UrlPolicy, refusal
from orderly.webhooks.exceptions import WebhookUrlNotAllowedError
from tests.webhooks.support import ScriptedResolver

GUARDED = UrlPolicy(allow_private_networks=False, require_https=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - a literal under test, nothing binds
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "private"),  # documentation (TEST-NET-1)
        ("198.18.0.1", "private"),  # benchmarking
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),  # documentation
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped private"),
        ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
        ("::ffff:100.64.0.1", "IPv4-mapped CGNAT"),
        ("::10.0.0.1", "IPv4-compatible private"),
        ("::8.8.8.8", "IPv4-compatible (deprecated)"),
        ("64:ff9b::a00:1", "NAT64 private"),
        ("64:ff9b::7f00:1", "NAT64 loopback"),
        ("2002:a00:1::", "6to4 private"),
        ("2002:7f00:1::", "6to4 loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo private"),
    ],
)
def test_non_public_addresses_are_refused_and_named(address: str, reason: str) -> None:
    found = refusal(ip_address(address))
    assert found is not None
    assert found.startswith(reason)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ip_address(address)) is None


async def test_a_host_is_refused_when_any_of_its_addresses_is() -> None:
    guard = UrlGuard(ScriptedResolver({"mixed.test": ["8.8.8.8", "10.0.0.7"]}), GUARDED)
    with pytest.raises(WebhookUrlNotAllowedError, match=r"10\.0\.0\.7, a private"):
        await guard.check("https://mixed.test/hook")


async def test_the_checked_address_is_the_one_to_connect_to() -> None:
    resolver = ScriptedResolver({"public.test": ["8.8.4.4", "2606:4700:4700::1111"]})
    target = await UrlGuard(resolver, GUARDED).check("https://public.test:8443/hook?x=1")
    assert (target.host, target.port, str(target.address)) == ("public.test", 8443, "8.8.4.4")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]:8080/hook",
        "http://[::ffff:7f00:1]/hook",
        "http://rebound.test/hook",
    ],
)
async def test_loopback_urls_are_refused_however_they_are_spelled(url: str) -> None:
    resolver = ScriptedResolver({"rebound.test": ["127.0.0.1"]})
    with pytest.raises(WebhookUrlNotAllowedError):
        await UrlGuard(resolver, GUARDED).check(url)


async def test_private_networks_pass_only_when_allowed() -> None:
    resolver = ScriptedResolver({"intranet.test": ["10.0.0.5"]})
    allowed = UrlPolicy(allow_private_networks=True, require_https=False)
    target = await UrlGuard(resolver, allowed).check("http://intranet.test/hook")
    assert str(target.address) == "10.0.0.5"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://public.test/hook", "scheme must be https"),
        ("ftp://public.test/hook", "scheme must be https"),
        ("https://user:pw@public.test/hook", "credentials"),
        ("https:///hook", "no host|not a valid URL"),
        ("https://nowhere.test/hook", "does not resolve"),
        ("not a url", "scheme must be https"),
    ],
)
async def test_production_needs_https_a_host_and_no_credentials(url: str, reason: str) -> None:
    production = UrlPolicy(allow_private_networks=False, require_https=True)
    guard = UrlGuard(ScriptedResolver({"public.test": ["8.8.8.8"]}), production)
    with pytest.raises(WebhookUrlNotAllowedError, match=reason):
        await guard.check(url)

"""The SSRF guard decides on resolved addresses; nothing here connects anywhere."""

from __future__ import annotations

import ipaddress

import pytest

from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused, refusal_reason


def resolver_for(table: dict[str, list[str]], calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


PUBLIC = resolver_for({"hooks.example.com": ["93.184.216.34"]})


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://100.100.100.200/", "cloud metadata"),
        ("http://10.0.0.1/hook", "private"),
        ("http://192.168.1.20/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://127.0.0.1/hook", "loopback"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://169.254.10.10/hook", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://100.64.0.1/hook", "not a public"),
        ("http://240.0.0.1/hook", "reserved"),
    ],
)
async def test_non_public_addresses_are_refused(url: str, reason: str) -> None:
    guard = WebhookGuard("", PUBLIC)
    with pytest.raises(WebhookURLRefused) as refused:
        await guard.vet(url)
    assert reason in refused.value.reason


async def test_only_http_and_https() -> None:
    guard = WebhookGuard("", PUBLIC)
    for url in ("ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://hooks.example.com/"):
        with pytest.raises(WebhookURLRefused, match="Only http and https"):
            await guard.vet(url)


async def test_a_name_resolving_to_loopback_is_refused() -> None:
    guard = WebhookGuard("", resolver_for({"localtest.me": ["127.0.0.1"]}))
    with pytest.raises(WebhookURLRefused, match=r"localtest\.me \(127\.0\.0\.1\) is a loopback"):
        await guard.vet("https://localtest.me/hook")


async def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    guard = WebhookGuard("", resolver_for({"mixed.example": ["93.184.216.34", "10.1.1.1"]}))
    with pytest.raises(WebhookURLRefused, match="private"):
        await guard.vet("https://mixed.example/")


async def test_numeric_host_forms_are_judged_by_what_they_resolve_to() -> None:
    # "2130706433" is 127.0.0.1 to getaddrinfo; resolving a numeric form sends no packet.
    guard = WebhookGuard("")
    with pytest.raises(WebhookURLRefused, match="loopback"):
        await guard.vet("http://2130706433/hook")


async def test_unresolvable_hosts_are_refused() -> None:
    guard = WebhookGuard("", resolver_for({}))
    with pytest.raises(WebhookURLRefused, match="cannot be resolved"):
        await guard.vet("https://nowhere.invalid/hook")


async def test_public_host_is_admitted_and_pinned_to_the_vetted_address() -> None:
    target = await WebhookGuard("", PUBLIC).vet("https://hooks.example.com/in?x=1")
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, "93.184.216.34")


async def test_allowlist_admits_hosts_and_cidrs() -> None:
    resolver = resolver_for({"hooks.internal": ["10.1.2.3"], "other.internal": ["10.9.9.9"]})
    guard = WebhookGuard(" hooks.internal, 127.0.0.1 ,192.168.0.0/16,[::1]", resolver)
    assert (await guard.vet("http://hooks.internal/x")).address == "10.1.2.3"
    assert (await guard.vet("http://127.0.0.1:9000/x")).address == "127.0.0.1"
    assert (await guard.vet("http://192.168.3.4/x")).address == "192.168.3.4"
    assert (await guard.vet("http://[::1]:9000/x")).address == "::1"
    with pytest.raises(WebhookURLRefused):
        await guard.vet("http://other.internal/x")
    with pytest.raises(WebhookURLRefused):
        await guard.vet("http://169.254.169.254/")


async def test_allowlisting_loopback_does_not_open_the_metadata_service() -> None:
    guard = WebhookGuard("127.0.0.0/8", PUBLIC)
    with pytest.raises(WebhookURLRefused, match="cloud metadata"):
        await guard.vet("http://169.254.169.254/")


# Every row is decided by the pure decision function: no resolver, no connection.
ADDRESS_TABLE = [
    # address, refused because (a word of the reason) or None when admitted
    ("93.184.216.34", None),
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ("2002:808:808::1", None),  # 6to4 of 8.8.8.8
    ("fec0::1", "site-local"),
    ("feff:ffff::1", "site-local"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),  # global-scope multicast is still multicast
    ("224.0.0.1", "multicast"),
    ("233.252.0.1", "multicast"),
    ("::ffff:10.0.0.1", "IPv4-mapped address of a private"),
    ("::ffff:127.0.0.1", "IPv4-mapped address of a loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped address of a cloud metadata"),
    ("64:ff9b::a00:1", "NAT64 address of a private"),
    ("64:ff9b::7f00:1", "NAT64 address of a loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 address of a cloud metadata"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2002:a00:1::1", "6to4 address of a private"),
    ("2002:7f00:1::1", "6to4 address of a loopback"),
    ("2002:c0a8:101::1", "6to4 address of a private"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo"),
    ("2001::1", "Teredo"),
    ("2001:4860:1::5efe:a00:1", "ISATAP address of a private"),
    ("2001:4860:1::200:5efe:c0a8:101", "ISATAP address of a private"),
    ("::a00:1", "reserved"),  # IPv4-compatible (deprecated)
    ("100::1", "reserved"),  # discard-only
    ("2001:db8::1", "private"),  # documentation
    ("3fff::1", "documentation"),
    ("5f00::1", "reserved"),  # SRv6 SIDs
    ("10.0.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("127.0.0.53", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "private"),  # "this network"
    ("169.254.1.1", "link-local"),
    ("100.64.0.1", "not a public"),  # shared address space (CGNAT)
    ("192.0.0.8", "IETF protocol assignment"),
    ("192.0.0.9", "IETF protocol assignment"),  # PCP anycast: global, still no webhook
    ("192.0.2.1", "private"),  # TEST-NET-1
    ("198.18.0.1", "private"),  # benchmarking
    ("198.51.100.1", "private"),
    ("203.0.113.1", "private"),
    ("192.88.99.1", "6to4 relay"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"),
]


@pytest.mark.parametrize(("text", "refused_because"), ADDRESS_TABLE)
def test_the_address_table(text: str, refused_because: str | None) -> None:
    reason = refusal_reason(ipaddress.ip_address(text))
    if refused_because is None:
        assert reason is None
    else:
        assert reason is not None and refused_because in reason


@pytest.mark.parametrize(("text", "refused_because"), ADDRESS_TABLE)
async def test_vet_refuses_a_name_resolving_to_any_refused_address(
    text: str, refused_because: str | None
) -> None:
    guard = WebhookGuard("", resolver_for({"hooks.example.com": ["93.184.216.34", text]}))
    if refused_because is None:
        assert (await guard.vet("https://hooks.example.com/in")).address == "93.184.216.34"
    else:
        with pytest.raises(WebhookURLRefused, match="public addresses only"):
            await guard.vet("https://hooks.example.com/in")

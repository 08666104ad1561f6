"""The SSRF guard decides on resolved addresses; nothing here connects anywhere."""

from __future__ import annotations

import pytest

from metrics_connect.jobs.ssrf import WebhookGuard, WebhookURLRefused


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

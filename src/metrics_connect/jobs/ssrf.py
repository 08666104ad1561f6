"""The SSRF guard: which webhook URLs the service may call, decided on resolved addresses.

A webhook URL is the one place where a client chooses where our servers connect.
Left open, it reaches the cloud metadata service, the database, the admin ports of
the private network. The guard admits only http(s), resolves the host itself and
refuses every address that is not plainly public, unless the operator allow-lists
the host or a CIDR. The decision names the address to connect to, and the
delivery transport (`jobs/transport.py`) connects to exactly that address, so a
DNS answer that changes between the check and the connection cannot slip past.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# host, port -> the addresses the name resolves to (text form).
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = ("http", "https")

# Instance-metadata endpoints of the clouds, refused by name even where a generic
# rule would already catch them, so that the reason says what they are.
CLOUD_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "169.254.169.253",  # AWS VPC DNS
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS VPC DNS over IPv6
    )
)


class WebhookURLRefused(ValueError):
    """The URL may not be called; `reason` says why, in words for an API client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VettedTarget:
    """A URL the guard admitted and the address the connection must go to."""

    url: httpx.URL
    host: str
    port: int
    address: str


async def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo, off the event loop; every address, IPv4 and IPv6."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in seen:
            seen.append(address)
    return seen


# Ranges `ipaddress` calls global (on Python 3.11, and some on later versions too)
# that are no place for a webhook. Checked by hand so the decision does not depend
# on which Python's special-purpose tables are installed.
NOT_GLOBALLY_ROUTABLE: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("fec0::/10", "a site-local address"),  # deprecated (RFC 3879), still routed inside sites
        ("2001::/32", "a Teredo tunnel address"),  # reaches whatever host the tunnel names
        ("64:ff9b:1::/48", "a local-use NAT64 address"),  # RFC 8215: a private translator
        ("3fff::/20", "a documentation address"),  # RFC 9637
        ("192.88.99.0/24", "a 6to4 relay anycast address"),  # deprecated (RFC 7526)
        # Anycast services (PCP, TURN) and protocol assignments, none a webhook host.
        ("192.0.0.0/24", "an IETF protocol assignment address"),
    )
)

# The well-known NAT64 prefix (RFC 6052): the last 32 bits are the IPv4 destination.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

# ISATAP interface identifiers (RFC 5214): ...:0000:5efe:a.b.c.d or ...:0200:5efe:a.b.c.d.
_ISATAP_MARKERS = (0x00005EFE, 0x02005EFE)


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address leads to, and how: mapped, NAT64, 6to4, ISATAP."""
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped address", address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return "a NAT64 address", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "a 6to4 address", address.sixtofour
    if (int(address) >> 32) & 0xFFFFFFFF in _ISATAP_MARKERS:
        return "an ISATAP address", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why an address is not a public destination, or None when it is.

    Pure: it never resolves or connects, so every case is tested as a table.
    """
    if address in CLOUD_METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            # ::ffff:10.0.0.1 or 64:ff9b::a00:1 reaches 10.0.0.1: judge that address.
            kind, ipv4 = embedded
            inner = refusal_reason(ipv4)
            return None if inner is None else f"{kind} of {inner}"
    for network, reason in NOT_GLOBALLY_ROUTABLE:
        if address.version == network.version and address in network:
            return reason
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if not address.is_global:
        # Shared address space (100.64.0.0/10) and whatever else IANA does not route.
        return "not a public address"
    return None


def parse_allowlist(text: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """ "hooks.internal, 127.0.0.1, 10.0.0.0/8" -> host names and networks."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return frozenset(hosts), tuple(networks)


class WebhookGuard:
    def __init__(self, allowlist: str = "", resolver: Resolver | None = None) -> None:
        self.allowed_hosts, self.allowed_networks = parse_allowlist(allowlist)
        self.resolver: Resolver = resolver or system_resolver

    def _address_allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allowed_networks)

    async def vet(self, url: str | httpx.URL) -> VettedTarget:
        """The address to connect to for `url`, or WebhookURLRefused."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise WebhookURLRefused("The URL is not valid.") from exc
        if parsed.scheme not in ALLOWED_SCHEMES:
            raise WebhookURLRefused("Only http and https URLs are accepted.")
        host = parsed.host.lower().rstrip(".")
        if not host:
            raise WebhookURLRefused("The URL has no host.")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        host_allowed = host in self.allowed_hosts

        literal = _literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                resolved = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise WebhookURLRefused(f"The host {host} cannot be resolved.") from exc
            addresses = [ipaddress.ip_address(a) for a in resolved]
            if not addresses:
                raise WebhookURLRefused(f"The host {host} cannot be resolved.")

        if not host_allowed:
            # Every address must pass: a name with one private answer is refused
            # whole, or a resolver could be steered to it on a later lookup.
            for address in addresses:
                reason = refusal_reason(address)
                if reason is not None and not self._address_allowed(address):
                    shown = host if literal is not None else f"{host} ({address})"
                    raise WebhookURLRefused(
                        f"The host {shown} is {reason}; webhooks go to public addresses only."
                    )
        return VettedTarget(url=parsed, host=host, port=port, address=str(addresses[0]))


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None

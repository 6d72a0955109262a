"""Where a seller's webhook may point: public addresses only.

Order events carry buyers' names, phones and addresses and are signed by us, so a webhook must not
reach into the network the shop runs in (loopback, private ranges, link-local such as the cloud
metadata service at 169.254.169.254, unspecified, multicast, reserved). The URL is checked when it
is set, and every address its host resolves to is checked again when an event is sent (a name can
resolve to a private address, or change to one later). An operator may allow networks they trust
(``WEBHOOK_ALLOWED_NETWORKS``, e.g. a receiver on the same private network).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from yarl import URL

from store.errors import ErrorCode, InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# A host written with numbers only (decimal, octal, hex, shortened dotted forms): an address to resolvers.
NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]*))*")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def parse_networks(text: str) -> tuple[Network, ...]:
    """Networks written as "10.0.0.0/8, fd00::/8" (ValueError on anything else)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def is_public(address: str, allowed: Iterable[Network] = ()) -> bool:
    """Whether an event may be sent to ``address``: a global one, or one in an allowed network."""
    try:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return any(ip in network for network in allowed)
        ip = _carried_ipv4(ip) or ip
    if any(ip in network for network in allowed):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 and the old "compatible" form.
_IPV4_IN_LOW_BITS = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to (mapped, 6to4, NAT64, compatible): it is the one checked."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _IPV4_IN_LOW_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def check_target(url: str, allowed: Iterable[Network] = ()) -> None:
    """Refuse a webhook URL whose host is a local name or a non-public address written as such.

    The host is read as the HTTP client will read it (yarl: full-width digits and dots become
    ASCII), and a host made of numbers that is not a plain dotted address ("2130706433", "127.1",
    "0x7f.1") is refused: resolvers read those as addresses too."""
    host = (URL(url).host or "").rstrip(".").lower()
    if not host.isascii() or host in LOCAL_NAMES or host.endswith(".localhost"):
        raise InvalidInput(ErrorCode.WEBHOOK_PRIVATE_ADDRESS, host=host)
    if NUMERIC_HOST.fullmatch(host) and not _is_ip(host):
        raise InvalidInput(ErrorCode.WEBHOOK_PRIVATE_ADDRESS, host=host)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return  # a name: its addresses are checked when an event is sent
    if not is_public(host, allowed):
        raise InvalidInput(ErrorCode.WEBHOOK_PRIVATE_ADDRESS, host=host)

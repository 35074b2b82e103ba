"""Where webhooks may go: no server-side request forgery.

A URL is refused when it is not http(s) (https only where `WEBHOOK_REQUIRE_HTTPS`), carries
credentials, or when any address its host resolves to is not a public unicast address: loopback,
private, carrier-grade NAT, link-local (the cloud metadata services at 169.254.169.254 and
fd00:ec2::254 among them), multicast, reserved or unspecified. `WEBHOOK_ALLOW_PRIVATE_URLS` lifts the
address rule (development and tests). The check runs when a URL is given and again before every
attempt, and the attempt connects to the very address that was checked, so a DNS answer that
changes in between (rebinding) cannot send it elsewhere.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.exceptions import WebhookUrlNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to `address`, and name `host` in the Host header and for TLS."""

    scheme: str
    host: str
    port: int
    address: str
    path: str  # with its query


def checked_target(url: str) -> Target:
    """The URL's target, or `WebhookUrlNotAllowed` saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlNotAllowed(f"This is not a valid URL: {exc}.") from exc
    schemes = ("https",) if settings.WEBHOOK_REQUIRE_HTTPS else ("http", "https")
    if parts.scheme not in schemes:
        raise WebhookUrlNotAllowed(f"Webhook URLs must start with {' or '.join(f'{s}://' for s in schemes)}.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlNotAllowed("Webhook URLs may not carry a user name or password.")
    host = parts.hostname
    if not host:
        raise WebhookUrlNotAllowed("This URL has no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlNotAllowed(f"The host {host!r} could not be resolved.") from exc
    addresses = [_address(str(info[4][0])) for info in resolved]
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        for address in addresses:
            if not _public(address):
                raise WebhookUrlNotAllowed(
                    f"The host {host!r} resolves to {address}, which is not a public internet address."
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]), path=path)


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone id is no part of the address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 addresses that carry an IPv4 one (NAT64, 6to4, Teredo) reach that one.
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(embedded)
    # `is_global` is false for loopback, private, shared (100.64/10), link-local, unspecified and
    # documentation ranges; multicast can be global but is no endpoint; reserved catches ::/8 (IPv4-compatible).
    return address.is_global and not address.is_multicast and not address.is_reserved

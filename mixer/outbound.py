"""Outbound HTTP to addresses people give us (webhooks, calendar feeds).

Such a request is a way into the network Mixer runs in (SSRF), so every address
a name resolves to must be a public one, and the connection then goes to the
very address that was checked (no second lookup a DNS rebinding could change),
with the name kept for TLS and ``Host``. Callers follow no redirects on their
own: each new address is checked the same way. ``allow_local`` (development and
tests only; production refuses to start with it) lets loopback and private
addresses through.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class NotPublic(ValueError):
    """A name resolved to a private, loopback or otherwise non-public address."""

    def __init__(self, host: str, ip: IPAddress) -> None:
        super().__init__(f"{host} is not a public address ({ip})")
        self.host = host
        self.ip = ip


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address (not loopback, private, link-local,
    shared, documentation, multicast or reserved; IPv4-mapped IPv6 unwrapped)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def resolve(host: str, port: int, *, allow_local: bool) -> list[IPAddress]:
    """Every address ``host`` resolves to; ``NotPublic`` if any is not public
    (unless ``allow_local``); ``socket.gaierror`` if it does not resolve."""
    try:
        found = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not allow_local:
        for ip in found:
            if not is_public(ip):
                raise NotPublic(host, ip)
    return found


class PinnedHTTP(http.client.HTTPConnection):
    """Plain HTTP to a checked address (development and tests only)."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        """Connect to the address that was checked, not to a fresh lookup."""
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to a checked address; the certificate is verified for the name."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
        self._ip = ip

    def connect(self) -> None:
        """Connect to the address that was checked, then TLS for the name."""
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            sock, server_hostname=self.host
        )

"""Where outbound tool traffic may go (SSRF defence).

Every connection's host is resolved by the connection itself and every address it resolves to
must be public (or inside a network the operator allows) before a socket is opened; the socket
then goes to one of exactly those addresses. So a name that resolves to a private address is
refused, a DNS answer that changes between a check and the connection (rebinding) cannot
matter, and a redirect to a private address is refused when its connection is made.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints that are not covered by the link-local rule.
METADATA = (ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"))


class ForbiddenDestinationError(Exception):
    """The destination is (or resolves to) an address the operator has not allowed."""


class UnresolvableError(Exception):
    """The host name does not resolve."""


class DestinationPolicy:
    def __init__(self, *, allowed_networks: str = "", nameservers: str = "") -> None:
        self._allowed: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(item.strip(), strict=False)
            for item in allowed_networks.split(",")
            if item.strip()
        )
        self._resolver: dns.asyncresolver.Resolver | None = None
        servers = [item.strip() for item in nameservers.split(",") if item.strip()]
        if servers:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = []
            for server in servers:
                host, _, port = (
                    server.rpartition(":") if server.count(":") == 1 else (server, "", "")
                )
                resolver.nameservers.append(host or server)
                if port:
                    resolver.port = int(port)
            resolver.lifetime = 5.0
            self._resolver = resolver

    def allowed(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self._allowed):
            return True
        if any(address in network for network in METADATA):
            return False
        return bool(address.is_global) and not address.is_multicast

    def check_literal(self, url: str) -> None:
        """Refuse at once a URL whose host is a literal address that is not allowed."""
        host = urlsplit(url).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            local = host.lower() == "localhost" or host.lower().endswith(".localhost")
            if local and not self.allowed(ipaddress.ip_address("127.0.0.1")):
                raise ForbiddenDestinationError(host) from None
            return
        if not self.allowed(address):
            raise ForbiddenDestinationError(host)

    async def addresses(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each one allowed; raises otherwise."""
        found = await self._resolve(host, port)
        if not found:
            raise UnresolvableError(host)
        refused = [a for a in found if not self.allowed(ipaddress.ip_address(a))]
        if refused:
            raise ForbiddenDestinationError(host)
        return found

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        if self._resolver is not None:
            return await self._resolve_dns(self._resolver, host)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror:
            return []
        return _unique(str(info[4][0]) for info in infos)

    @staticmethod
    async def _resolve_dns(resolver: dns.asyncresolver.Resolver, host: str) -> list[str]:
        found: list[str] = []
        for record_type in ("A", "AAAA"):
            try:
                answer = await resolver.resolve(host, record_type)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
                continue
            except dns.exception.Timeout:
                continue
            found += [str(record) for record in answer]
        return _unique(found)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the destination check in front of every connection."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        error: Exception | None = None
        for address in await self._policy.addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as failed:
                error = failed
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenDestinationError("unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(policy: DestinationPolicy, **options: Any) -> httpx.AsyncClient:
    """An HTTP client whose every connection passes the destination policy. Proxies from the
    environment are ignored (a proxy would hide the real destination), redirects are not
    followed automatically (callers follow them, each through this client)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy),
    )
    return httpx.AsyncClient(
        transport=transport, trust_env=False, follow_redirects=False, **options
    )

"""The address a request came from, as the edge vouches for it.

Envoy (`use_remote_address: true`) appends the peer it accepted the connection from to
`x-forwarded-for`, so the last entry is the one a client cannot forge; with `trusted_hops`
proxies in front of Envoy (each appending its own peer), the client is that many entries further
left. Everything left of it is whatever the client sent. `x-envoy-external-address` is not used:
Envoy leaves it out for internal (private or loopback) peers. Without the header (a call from
inside the mesh) the gRPC peer is the address.

IPv6 clients are grouped by /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import unquote

FORWARDED_FOR = "x-forwarded-for"


def client_address(
    metadata: Iterable[tuple[str, str | bytes]], *, peer: str, trusted_hops: int
) -> str:
    hops = [
        hop.strip()
        for key, value in metadata
        if key == FORWARDED_FOR and isinstance(value, str)
        for hop in value.split(",")
        if hop.strip()
    ]
    if hops:
        chosen = hops[max(0, len(hops) - 1 - trusted_hops)]
        address = _parse(chosen)
        if address is not None:
            return _group(address)
    address = _parse(_peer_host(peer))
    return _group(address) if address is not None else peer


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _group(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _peer_host(peer: str) -> str:
    """`ipv4:127.0.0.1:5000` -> `127.0.0.1`; `ipv6:[::1]:5000` -> `::1`."""
    _, _, rest = unquote(peer).partition(":")
    if rest.startswith("["):
        return rest[1 : rest.find("]")]
    return rest.rpartition(":")[0] or rest

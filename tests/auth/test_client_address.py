"""Which address a request is counted against: the edge's word, never the client's."""

from __future__ import annotations

import pytest

from services.auth.client_address import client_address


@pytest.mark.parametrize(
    ("forwarded", "hops", "address"),
    [
        ("203.0.113.9", 0, "203.0.113.9"),
        # A client-supplied chain in front of what Envoy appended is ignored.
        ("6.6.6.6, 7.7.7.7, 203.0.113.9", 0, "203.0.113.9"),
        # One trusted load balancer in front of Envoy: the client is one entry further left.
        ("6.6.6.6, 203.0.113.9, 10.0.0.2", 1, "203.0.113.9"),
        ("203.0.113.9", 3, "203.0.113.9"),
        # IPv6 clients are grouped by /64.
        ("2001:db8:1:2:aaaa::1", 0, "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", 0, "198.51.100.4"),
    ],
)
def test_forwarded_for(forwarded: str, hops: int, address: str) -> None:
    metadata = [("x-forwarded-for", forwarded)]
    assert client_address(metadata, peer="ipv4:10.1.1.1:5000", trusted_hops=hops) == address


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.1.1.1:5000", "10.1.1.1"),
        ("ipv6:[2001:db8::7]:5000", "2001:db8::/64"),
        ("ipv6:%5B::1%5D:5000", "::/64"),
    ],
)
def test_without_the_edge_the_peer_counts(peer: str, address: str) -> None:
    assert client_address([("x-forwarded-for", "garbage")], peer=peer, trusted_hops=0) == address
    assert client_address([], peer=peer, trusted_hops=0) == address

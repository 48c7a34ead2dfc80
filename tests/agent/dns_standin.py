"""A real DNS server (dnslib) on a loopback UDP port answering fixed A records, for tests of the
destination policy after resolution."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RR, A  # type: ignore[import-untyped]
from dnslib.server import BaseResolver, DNSServer  # type: ignore[import-untyped]


class _Fixed(BaseResolver):
    def __init__(self, records: dict[str, str]) -> None:
        self._records = {f"{name.rstrip('.')}.": address for name, address in records.items()}

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname)
        if request.q.qtype == QTYPE.A and name in self._records:
            reply.add_answer(RR(name, QTYPE.A, rdata=A(self._records[name]), ttl=0))
        return reply


@contextmanager
def nameserver(records: dict[str, str]) -> Iterator[str]:
    """Serve `records` (name → IPv4); yields `127.0.0.1:<port>` for `dns_nameservers`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = DNSServer(_Fixed(records), port=port, address="127.0.0.1", logger=_Quiet())
    server.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


class _Quiet:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

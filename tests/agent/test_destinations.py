"""SSRF defence of every outbound tool request, against a real DNS server (dnslib) and real HTTP
servers on loopback addresses: the operator allows 127.0.0.2 (standing in for a public address)
and nothing else, so 127.0.0.1 plays the internal service that must never be reached."""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from dnslib import QTYPE, RR, A  # type: ignore[import-untyped]
from dnslib.server import BaseResolver, DNSServer  # type: ignore[import-untyped]

from services.agent.destinations import DestinationPolicy, guarded_client
from services.agent.tools.http_call import exchange
from services.agent.tools.outcome import ToolFailure

PUBLIC, INTERNAL = "127.0.0.2", "127.0.0.1"


class Records(BaseResolver):
    """`rebind.test` answers PUBLIC once, then INTERNAL: a rebinding attacker's DNS."""

    def __init__(self) -> None:
        self.rebind_answers = 0
        self.fixed = {
            "public.test.": [PUBLIC],
            "private.test.": ["10.0.0.7"],
            "mixed.test.": [PUBLIC, "192.168.1.9"],
            "metadata.test.": ["169.254.169.254"],
        }

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname)
        if request.q.qtype != QTYPE.A:
            return reply
        if name == "rebind.test.":
            addresses = [PUBLIC if self.rebind_answers == 0 else INTERNAL]
            self.rebind_answers += 1
        else:
            addresses = self.fixed.get(name, [])
        for address in addresses:
            reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=0))
        return reply


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def dns() -> Iterator[tuple[str, Records]]:
    records = Records()
    port = _free_udp_port()
    server = DNSServer(records, port=port, address="127.0.0.1")
    server.start_thread()
    yield f"127.0.0.1:{port}", records
    server.stop()


class Hits:
    def __init__(self) -> None:
        self.paths: list[str] = []


def _serve(address: str, port: int, hits: Hits, internal_port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.paths.append(self.path)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"http://{INTERNAL}:{internal_port}/secret")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"x" * (2 * 1024 * 1024) if self.path == "/big" else b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=functools.partial(server.serve_forever, poll_interval=0.05), daemon=True
    ).start()
    return server


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, Hits, Hits]]:
    """The same port on PUBLIC and INTERNAL: a request pinned to the wrong one would show."""
    public_hits, internal_hits = Hits(), Hits()
    with socket.socket() as probe:
        probe.bind((PUBLIC, 0))
        port = int(probe.getsockname()[1])
    public = _serve(PUBLIC, port, public_hits, port)
    internal = _serve(INTERNAL, port, internal_hits, port)
    yield port, public_hits, internal_hits
    for server in (public, internal):
        server.shutdown()
        server.server_close()


async def _get(policy: DestinationPolicy, url: str, max_bytes: int = 1024 * 1024) -> Any:
    async with guarded_client(policy) as client:  # a fresh pool: every request resolves anew
        return await exchange(client, "GET", url, timeout=5, max_bytes=max_bytes)


async def _refused(policy: DestinationPolicy, url: str) -> str:
    with pytest.raises(ToolFailure) as caught:
        await _get(policy, url)
    return caught.value.reason


async def test_names_and_literals_resolving_to_forbidden_addresses_are_refused(
    dns: tuple[str, Records], servers: tuple[int, Hits, Hits]
) -> None:
    port, public_hits, internal_hits = servers
    policy = DestinationPolicy(allowed_networks=f"{PUBLIC}/32", nameservers=dns[0])
    assert (await _get(policy, f"http://public.test:{port}/ok")).status == 200
    for host in (
        "private.test",
        "mixed.test",
        "metadata.test",
        INTERNAL,
        "[::1]",
        "169.254.169.254",
    ):
        assert await _refused(policy, f"http://{host}:{port}/") == "TOOL_DESTINATION_FORBIDDEN", (
            host
        )
    assert public_hits.paths == ["/ok"]
    assert internal_hits.paths == []


async def test_a_redirect_to_an_internal_address_is_refused(
    dns: tuple[str, Records], servers: tuple[int, Hits, Hits]
) -> None:
    port, public_hits, internal_hits = servers
    policy = DestinationPolicy(allowed_networks=f"{PUBLIC}/32", nameservers=dns[0])
    reason = await _refused(policy, f"http://public.test:{port}/redirect")
    assert reason == "TOOL_DESTINATION_FORBIDDEN"
    assert "/redirect" in public_hits.paths
    assert internal_hits.paths == []


async def test_dns_rebinding_cannot_reach_the_internal_address(
    dns: tuple[str, Records], servers: tuple[int, Hits, Hits]
) -> None:
    port, _, internal_hits = servers
    records = dns[1]
    records.rebind_answers = 0
    policy = DestinationPolicy(allowed_networks=f"{PUBLIC}/32", nameservers=dns[0])
    assert (await _get(policy, f"http://rebind.test:{port}/first")).status == 200
    assert (
        await _refused(policy, f"http://rebind.test:{port}/second") == "TOOL_DESTINATION_FORBIDDEN"
    )
    assert records.rebind_answers >= 2
    assert internal_hits.paths == []


async def test_default_policy_refuses_loopback_and_huge_answers_are_cut(
    servers: tuple[int, Hits, Hits],
) -> None:
    port, _, internal_hits = servers
    strict = DestinationPolicy()
    assert await _refused(strict, f"http://localhost:{port}/") == "TOOL_DESTINATION_FORBIDDEN"
    assert await _refused(strict, f"http://{PUBLIC}:{port}/") == "TOOL_DESTINATION_FORBIDDEN"
    assert internal_hits.paths == []
    allowing = DestinationPolicy(allowed_networks=f"{PUBLIC}/32")
    with pytest.raises(ToolFailure) as caught:
        await _get(allowing, f"http://{PUBLIC}:{port}/big", max_bytes=64 * 1024)
    assert caught.value.reason == "TOOL_RESPONSE_TOO_LARGE"

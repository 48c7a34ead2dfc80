"""The platform that the schemathesis run attacks, closed to the outside world.

Generated input names hosts and tokens at random, and several RPCs act on them at once (social
checks a bot token with its platform, agent discovers an MCP server, checks a workspace's
credentials). So every peer a service may call is on loopback: the platforms' APIs and the
workspaces' APIs are the local stand-ins, and agent resolves tool hosts through a local DNS
server that knows no name at all (a tool URL can then only be refused, never dialled). Tool URLs
with a literal address are kept out of the generated input by the test itself.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from dnslib.server import BaseResolver, DNSServer  # type: ignore[import-untyped]

from services.stack import Stack
from tests.conftest import StartStack
from tests.standins.asana import AsanaStandIn
from tests.standins.google_calendar import GoogleCalendarStandIn
from tests.standins.max import MaxStandIn
from tests.standins.notion import NotionStandIn
from tests.standins.telegram import TelegramStandIn
from tests.standins.vk import VkStandIn
from tests.standins.x import XStandIn

X_CLIENT_ID = "fuzz-x-client"
X_CLIENT_SECRET = "fuzz-x-client-secret"
X_CONSUMER_SECRET = "fuzz-x-consumer-secret"
X_WEBHOOK_ID = "6f1c1d0e-6c2b-4d8e-9a57-3f0a8d1b2c4e"


class NoNames(BaseResolver):
    """A DNS server that has no record for any name (an empty NOERROR answer)."""

    def resolve(self, request: Any, handler: Any) -> Any:
        return request.reply()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def no_names_dns() -> Iterator[str]:
    port = _free_udp_port()
    server = DNSServer(NoNames(), port=port, address="127.0.0.1")
    server.start_thread()
    yield f"127.0.0.1:{port}"
    server.stop()


@dataclass(frozen=True)
class Peers:
    env: dict[str, dict[str, str]]


@pytest.fixture(scope="session")
def local_peers(no_names_dns: str) -> Iterator[Peers]:
    with (
        TelegramStandIn() as telegram,
        VkStandIn() as vk,
        MaxStandIn() as max_api,
        XStandIn(
            client_id=X_CLIENT_ID, client_secret=X_CLIENT_SECRET, consumer_secret=X_CONSUMER_SECRET
        ) as x,
        NotionStandIn() as notion,
        AsanaStandIn() as asana,
        GoogleCalendarStandIn() as google,
    ):
        x_webhook = x.register_webhook("https://edge.example/webhooks/x")
        yield Peers(
            env={
                "social": {
                    "INBETWIN_SOCIAL_TELEGRAM_API_BASE": telegram.base_url,
                    "INBETWIN_SOCIAL_VK_API_BASE": vk.base_url,
                    "INBETWIN_SOCIAL_MAX_API_BASE": max_api.base_url,
                    "INBETWIN_SOCIAL_X_API_BASE": x.base_url,
                    "INBETWIN_SOCIAL_X_AUTHORIZE_URL": x.authorize_url,
                    "INBETWIN_SOCIAL_X_CLIENT_ID": X_CLIENT_ID,
                    "INBETWIN_SOCIAL_X_CLIENT_SECRET": X_CLIENT_SECRET,
                    "INBETWIN_SOCIAL_X_CONSUMER_SECRET": X_CONSUMER_SECRET,
                    "INBETWIN_SOCIAL_X_WEBHOOK_ID": X_WEBHOOK_ID,
                    "INBETWIN_SOCIAL_X_API_WEBHOOK_ID": x_webhook,
                },
                "agent": {
                    "INBETWIN_AGENT_DNS_NAMESERVERS": no_names_dns,
                    "INBETWIN_AGENT_NOTION_API_BASE": notion.base_url,
                    "INBETWIN_AGENT_ASANA_API_BASE": asana.base_url,
                    "INBETWIN_AGENT_GOOGLE_CALENDAR_API_BASE": google.api_base,
                    "INBETWIN_AGENT_GOOGLE_TOKEN_URL": google.token_url,
                },
            }
        )


@pytest.fixture(scope="session")
def fuzz_stack(start_stack: StartStack, local_peers: Peers) -> Stack:
    return start_stack(extra_env=local_peers.env)


def _register(stack: Stack, name: str) -> str:
    response = httpx.post(
        f"{stack.rest_url}/api/v1/auth/register",
        json={
            "email": f"{name}-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": name.capitalize(),
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["tokens"]["access_token"])


@pytest.fixture(scope="session")
def fuzz_token(fuzz_stack: Stack) -> str:
    """A valid access token of a fresh account."""
    return _register(fuzz_stack, "fuzz")

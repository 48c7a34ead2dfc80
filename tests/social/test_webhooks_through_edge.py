"""The platforms' webhooks through the real Envoy edge: what VK, X and MAX see on the wire (VK's
plain-text `ok` and confirmation string, X's CRC GET and signed POSTs, MAX's JSON answer), with
connections made over REST and OAuth callbacks arriving without a token."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.social.samples import sample
from tests.social.support import X_CLIENT_ID, X_CLIENT_SECRET, X_CONSUMER_SECRET
from tests.standins.max import MaxStandIn
from tests.standins.vk import VkStandIn
from tests.standins.x import XStandIn

X_WEBHOOK_ID = "0b9e2a54-3f1d-4c8e-a6a1-6f0c2d4e8b21"


@pytest.fixture(scope="module")
def edge_platforms() -> Iterator[tuple[VkStandIn, XStandIn, MaxStandIn, str]]:
    with (
        VkStandIn() as vk,
        XStandIn(
            client_id=X_CLIENT_ID, client_secret=X_CLIENT_SECRET, consumer_secret=X_CONSUMER_SECRET
        ) as x,
        MaxStandIn() as max_api,
    ):
        yield vk, x, max_api, x.register_webhook("https://edge.example/webhooks/x")


@pytest.fixture(scope="module")
def edge(
    start_stack: StartStack, edge_platforms: tuple[VkStandIn, XStandIn, MaxStandIn, str]
) -> Stack:
    vk, x, max_api, x_webhook = edge_platforms
    return start_stack(
        services=("auth", "social"),
        extra_env={
            "social": {
                "INBETWIN_SOCIAL_VK_API_BASE": vk.base_url,
                "INBETWIN_SOCIAL_MAX_API_BASE": max_api.base_url,
                "INBETWIN_SOCIAL_X_API_BASE": x.base_url,
                "INBETWIN_SOCIAL_X_AUTHORIZE_URL": x.authorize_url,
                "INBETWIN_SOCIAL_X_CLIENT_ID": X_CLIENT_ID,
                "INBETWIN_SOCIAL_X_CLIENT_SECRET": X_CLIENT_SECRET,
                "INBETWIN_SOCIAL_X_CONSUMER_SECRET": X_CONSUMER_SECRET,
                "INBETWIN_SOCIAL_X_WEBHOOK_ID": X_WEBHOOK_ID,
                "INBETWIN_SOCIAL_X_API_WEBHOOK_ID": x_webhook,
            }
        },
    )


@pytest.fixture
async def rest(edge: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge.rest_url, timeout=20) as client:
        yield client


async def _owner(rest: httpx.AsyncClient) -> dict[str, str]:
    registered = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"edge-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": "Owner",
        },
    )
    assert registered.status_code == 200, registered.text
    return {"Authorization": f"Bearer {registered.json()['tokens']['access_token']}"}


async def test_vk_confirmation_string_and_ok_are_plain_text(
    rest: httpx.AsyncClient, edge_platforms: tuple[VkStandIn, XStandIn, MaxStandIn, str]
) -> None:
    vk = edge_platforms[0]
    group_id = 222_000_001
    token = vk.add_community(group_id=group_id, rights=("messages",))
    connected = await rest.post(
        "/api/v1/social/integrations",
        headers=await _owner(rest),
        json={
            "request_id": str(uuid.uuid4()),
            "vk": {
                "community_token": token,
                "group_id": group_id,
                "callback_secret": "EdgeSecret42",
                "confirmation_code": "d8v2ve07",
            },
        },
    )
    assert connected.status_code == 200, connected.text
    url = connected.json()["integration"]["webhook_url"]
    confirmation = await vk.confirm(url, group_id=group_id, secret="EdgeSecret42")
    assert confirmation.status_code == 200
    assert confirmation.headers["content-type"].startswith("text/plain")
    assert confirmation.content == b"d8v2ve07"
    event = sample("vk_message_new_text.json")
    ok = await vk.deliver(url, event, group_id=group_id, secret="EdgeSecret42")
    assert (ok.status_code, ok.content) == (200, b"ok")
    forged = await vk.deliver(url, event, group_id=group_id, secret="nope")
    assert forged.status_code == 401
    assert forged.content != b"ok"


async def test_x_oauth_callback_crc_and_signed_events(
    rest: httpx.AsyncClient,
    edge: Stack,
    edge_platforms: tuple[VkStandIn, XStandIn, MaxStandIn, str],
) -> None:
    x = edge_platforms[1]
    headers = await _owner(rest)
    started = await rest.post("/api/v1/social/oauth/x:start", headers=headers, json={})
    assert started.status_code == 200, started.text
    user_id = x.add_user(username="edge_shop", name="Edge Shop")
    answer = x.approve(started.json()["authorization_url"], user_id)
    callback = await rest.get("/api/v1/social/oauth/x/callback", params=answer)  # no token
    assert callback.status_code == 200, callback.text
    integration = callback.json()["integration"]
    assert integration["platform_account_id"] == user_id
    assert integration["webhook_url"] == f"{edge.rest_url}/webhooks/x/{X_WEBHOOK_ID}"

    url = integration["webhook_url"]
    crc = await x.crc(url, "edge-challenge")
    assert crc.status_code == 200
    assert crc.headers["content-type"].startswith("application/json")
    assert crc.json() == {"response_token": x.expected_crc("edge-challenge")}
    body = sample("x_aaa_direct_message_events.json")
    body["for_user_id"] = user_id
    raw = json.dumps(body).encode()
    assert (await x.deliver(url, raw)).status_code == 200
    assert (await x.deliver(url, raw, signature="sha256=Zm9yZ2Vk")).status_code == 401
    contacts = await rest.get("/api/v1/social/contacts", headers=headers)
    assert [c["username"] for c in contacts.json()["contacts"]] == ["furiouscamper"]


async def test_max_gets_json_ok_and_forgeries_get_401(
    rest: httpx.AsyncClient, edge_platforms: tuple[VkStandIn, XStandIn, MaxStandIn, str]
) -> None:
    max_api = edge_platforms[2]
    token = max_api.add_bot()
    connected = await rest.post(
        "/api/v1/social/integrations",
        headers=await _owner(rest),
        json={"request_id": str(uuid.uuid4()), "max": {"bot_token": token}},
    )
    assert connected.status_code == 200, connected.text
    update: dict[str, Any] = copy.deepcopy(sample("max_message_edited_dialog.json"))
    update["update_type"] = "message_created"
    update["message"]["timestamp"] = int(time.time() * 1000)
    ok = await max_api.deliver(token, update)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/json")
    assert ok.json() == {"ok": True}
    assert (await max_api.deliver(token, update, secret="wrong-secret")).status_code == 401

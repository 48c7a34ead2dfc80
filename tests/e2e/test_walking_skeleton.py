"""One real message through the whole platform: register → connect a Telegram bot → the bot
receives an update through Envoy → social stores it and publishes message.received → llm
answers with a reply command (written by the model stand-in) → social sends it to the
(stand-in) Telegram Bot API, once."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.standins.openai_api import OpenAIStandIn
from tests.standins.telegram import TelegramStandIn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
_update_ids = itertools.count(int(time.time()))
_chat_ids = itertools.count(5_000_000_001)


@pytest.fixture(scope="module")
def telegram() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def model() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def platform(start_stack: StartStack, telegram: TelegramStandIn, model: OpenAIStandIn) -> Stack:
    return start_stack(
        extra_env={
            "social": {"INBETWIN_SOCIAL_TELEGRAM_API_BASE": telegram.base_url},
            "llm": {"INBETWIN_LLM_MODEL_BASE_URL": model.base_url},
        }
    )


@pytest.fixture
async def rest(platform: Stack) -> Any:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=20) as client:
        yield client


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    """The documented sample update, made fresh: new ids and the current time."""
    update: dict[str, Any] = copy.deepcopy(
        json.loads((FIXTURES / "telegram_text_private.json").read_text())
    )
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["message_id"] = update["update_id"]
    message["date"] = int(time.time())
    message["text"] = text
    message["chat"]["id"] = message["from"]["id"] = chat_id
    return update


async def owner_with_bot(
    rest: httpx.AsyncClient, telegram: TelegramStandIn
) -> tuple[str, str, str]:
    """Register an owner, connect a new bot and create an enabled agent; returns (access token,
    bot token, integration id)."""
    registered = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"owner-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": "Owner",
        },
    )
    assert registered.status_code == 200, registered.text
    access = registered.json()["tokens"]["access_token"]
    bot_token = telegram.add_bot()
    connected = await rest.post(
        "/api/v1/social/integrations",
        headers={"Authorization": f"Bearer {access}"},
        json={
            "request_id": str(uuid.uuid4()),
            "telegram": {"bot_token": bot_token},
            "default_contact_policy": "CONTACT_POLICY_ALLOW_ALL",
        },
    )
    assert connected.status_code == 200, connected.text
    integration_id = connected.json()["integration"]["id"]
    agent = await rest.post(
        "/api/v1/agent/agents",
        headers={"Authorization": f"Bearer {access}"},
        json={
            "request_id": str(uuid.uuid4()),
            "agent": {
                "display_name": "Shop",
                "enabled": True,
                "system_prompt": "You answer the customers of a barber shop.",
            },
        },
    )
    assert agent.status_code == 200, agent.text
    return access, bot_token, integration_id


async def wait_for_sent(telegram: TelegramStandIn, chat_id: int, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [m.text for m in telegram.sent_messages(chat_id)]
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"expected {count} messages to chat {chat_id}, got {telegram.sent_messages(chat_id)}"
    )


async def test_a_message_is_answered_once(
    rest: httpx.AsyncClient, telegram: TelegramStandIn
) -> None:
    _, bot_token, integration_id = await owner_with_bot(rest, telegram)
    hook = telegram.webhook(bot_token)
    assert hook is not None
    assert hook.url.endswith(f"/webhooks/telegram/{integration_id}")
    assert hook.secret_token

    chat_id = next(_chat_ids)
    update = text_update(chat_id, "Hello! How much is a haircut?")
    first = await telegram.deliver_update(bot_token, update)
    assert first.status_code == 200, first.text
    assert await wait_for_sent(telegram, chat_id, 1) == [
        "Stand-in answer to: Hello! How much is a haircut?"
    ]

    again = await telegram.deliver_update(bot_token, update)
    assert again.status_code == 200
    # A later, different message gets its own reply: once it has arrived, the redelivered
    # update (posted before it) has long been handled, and it must not have added a reply.
    await telegram.deliver_update(bot_token, text_update(chat_id, "And on Sunday?"))
    assert len(await wait_for_sent(telegram, chat_id, 2)) == 2
    await asyncio.sleep(1.0)
    assert len(telegram.sent_messages(chat_id)) == 2


async def test_wrong_or_missing_secret_is_401_and_nothing_happens(
    rest: httpx.AsyncClient, telegram: TelegramStandIn
) -> None:
    _, bot_token, _ = await owner_with_bot(rest, telegram)
    chat_id = next(_chat_ids)
    forged = await telegram.deliver_update(
        bot_token, text_update(chat_id, "hi"), secret_token="nope"
    )
    missing = await telegram.deliver_update(bot_token, text_update(chat_id, "hi"), secret_token="")
    assert forged.status_code == missing.status_code == 401
    assert forged.headers["content-type"].startswith("application/json")
    # A genuine update afterwards is answered, and it is the only answer the chat gets.
    await telegram.deliver_update(bot_token, text_update(chat_id, "hi again"))
    await wait_for_sent(telegram, chat_id, 1)
    await asyncio.sleep(0.5)
    assert len(telegram.sent_messages(chat_id)) == 1


async def test_unknown_integration_webhook_is_404(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        f"/webhooks/telegram/{uuid.uuid4()}",
        json=text_update(next(_chat_ids), "hi"),
        headers={"X-Telegram-Bot-Api-Secret-Token": "whatever"},
    )
    assert response.status_code == 404


async def test_malformed_webhook_body_is_400(
    rest: httpx.AsyncClient, telegram: TelegramStandIn
) -> None:
    _, bot_token, _ = await owner_with_bot(rest, telegram)
    response = await telegram.deliver_update(bot_token, b"{not json")
    assert response.status_code == 400


async def test_one_owner_cannot_see_another_owners_integration(
    rest: httpx.AsyncClient, telegram: TelegramStandIn
) -> None:
    ann_access, _, ann_integration = await owner_with_bot(rest, telegram)
    bob_access, _, _ = await owner_with_bot(rest, telegram)
    mine = await rest.get(
        f"/api/v1/social/integrations/{ann_integration}",
        headers={"Authorization": f"Bearer {ann_access}"},
    )
    assert mine.status_code == 200
    theirs = await rest.get(
        f"/api/v1/social/integrations/{ann_integration}",
        headers={"Authorization": f"Bearer {bob_access}"},
    )
    assert theirs.status_code == 404
    listed = await rest.get(
        "/api/v1/social/integrations", headers={"Authorization": f"Bearer {bob_access}"}
    )
    assert ann_integration not in {i["id"] for i in listed.json().get("integrations", [])}


async def test_a_service_down_gives_503_json_and_the_rest_keeps_working(
    start_stack: StartStack,
) -> None:
    # A platform of its own (the extra setting makes it distinct): this test kills a service, and
    # identical start_stack calls share one running platform with other tests.
    stack = start_stack(
        services=("auth", "leads"), extra_env={"leads": {"INBETWIN_LEADS_LOG_LEVEL": "WARNING"}}
    )
    async with httpx.AsyncClient(base_url=stack.rest_url, timeout=20) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={
                "email": f"d-{uuid.uuid4().hex[:8]}@example.com",
                "password": "12345678",
                "display_name": "D",
            },
        )
        headers = {"Authorization": f"Bearer {registered.json()['tokens']['access_token']}"}
        before = await client.get("/api/v1/leads", headers=headers)
        assert before.status_code != 503, before.text
        stack.kill("leads")
        down = await client.get("/api/v1/leads", headers=headers)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/json")
        me = await client.get("/api/v1/auth/me", headers=headers)
        assert me.status_code == 200

"""The send queue: conversation order, and a platform's retry_after shared by every chat of the
account through Redis."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from inbetwin.social.v1 import message_pb2, social_service_pb2
from redis.asyncio import Redis

from services.kit.bus import EventBus
from services.social.ratelimit import SendScope
from services.stack import Stack
from tests.social.samples import telegram_update
from tests.social.support import (
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    eventually,
    owner_id,
    reply_command,
    webhook,
)
from tests.standins.telegram import TelegramStandIn


@pytest.fixture
def telegram(platforms: Platforms) -> TelegramStandIn:
    return platforms.telegram


@pytest.fixture
async def redis(auth_stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(auth_stack.redis_url)
    yield client
    await client.aclose()


async def _bot_with_chats(
    stub: Stub, telegram: TelegramStandIn, owner: Metadata, chats: list[int]
) -> tuple[str, str, dict[int, str]]:
    token = telegram.add_bot()
    connected = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), telegram={"bot_token": token}
        ),
        metadata=owner,
    )
    integration_id = connected.integration.id
    hook = telegram.webhook(token)
    assert hook is not None
    for index, chat in enumerate(chats):
        update = telegram_update("telegram_text_private.json", update_id=index + 1)
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
        update["message"]["date"] = int(time.time())
        await webhook(
            stub,
            "telegram",
            integration_id,
            json.dumps(update).encode(),
            headers=(("x-telegram-bot-api-secret-token", hook.secret_token),),
        )
    listed = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(integration_id=integration_id), metadata=owner
    )
    contacts = {int(c.platform_user_id): c.id for c in listed.contacts}
    return token, integration_id, contacts


async def test_a_conversation_is_sent_in_order(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat = 930001
    _, _, contacts = await _bot_with_chats(stub, telegram, owner, [chat])
    texts = [f"part {n}" for n in range(6)]  # more than the per-chat burst
    sent = [
        await stub.SendMessage(
            social_service_pb2.SendMessageRequest(
                contact_id=contacts[chat], request_id=str(uuid.uuid4()), text=text
            ),
            metadata=owner,
        )
        for text in texts
    ]

    async def all_sent() -> bool:
        for message in sent:
            got = await stub.GetMessage(
                social_service_pb2.GetMessageRequest(message_id=message.message.id),
                metadata=owner,
            )
            if int(got.message.status) != message_pb2.MESSAGE_STATUS_SENT:
                return False
        return True

    await eventually(all_sent, seconds=20)
    assert [m.text for m in telegram.sent_messages(chat)] == texts


async def test_a_retry_after_holds_every_chat_of_the_bot(
    stub: Stub, telegram: TelegramStandIn, bus: EventBus, redis: Redis, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    first, second = 930002, 930003
    token, integration_id, contacts = await _bot_with_chats(stub, telegram, owner, [first, second])
    telegram.fail_next("sendMessage", error_code=429, retry_after=2)
    reply_id = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), integration_id, contacts[first], "one", reply_id)
    )

    pause = SendScope(integration_id=integration_id, chat_id=str(second)).pause_key

    async def paused() -> bool:
        # The 429's retry_after is shared: every chat of the bot waits, on every instance.
        until = float(await redis.get(pause) or 0)
        seconds, micros = await redis.time()
        return until > seconds + micros / 1e6

    await eventually(paused)
    other = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), integration_id, contacts[second], "two", other)
    )

    async def both() -> bool:
        return [m.text for m in telegram.sent_messages(first)] == ["one"] and [
            m.text for m in telegram.sent_messages(second)
        ] == ["two"]

    await eventually(both, seconds=15)
    calls = [c for c in telegram.calls("sendMessage") if c.token == token]
    assert len(calls) == 3  # the refused one, then each chat once

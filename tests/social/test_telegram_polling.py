"""Telegram polling mode: getUpdates instead of a webhook, one poller per bot across instances,
an update confirmed to Telegram only once it is stored."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.events import deterministic_id
from services.social.telegram_polling import PollLease
from services.stack import Stack
from tests.social.samples import telegram_update
from tests.social.support import (
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    eventually,
    outbox_payload,
    reason,
    table_count,
    webhook,
)
from tests.standins.telegram import TelegramStandIn


@pytest.fixture
def telegram(platforms: Platforms) -> TelegramStandIn:
    return platforms.telegram


async def connect_polling(
    stub: Stub, telegram: TelegramStandIn, owner: Metadata
) -> tuple[str, integration_pb2.Integration]:
    token = telegram.add_bot()
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()),
            telegram={"bot_token": token},
            delivery_mode=integration_pb2.DELIVERY_MODE_POLLING,
        ),
        metadata=owner,
    )
    return token, response.integration


def fresh_update(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    update = telegram_update("telegram_text_private.json", update_id=update_id)
    message = update["message"]
    message.update(text=text, message_id=update_id, date=int(time.time()))
    message["chat"]["id"] = message["from"]["id"] = chat_id
    return update


async def test_a_polling_bot_gets_its_updates_stored_once_and_confirmed_after(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect_polling(stub, telegram, await new_owner())
    assert integration.delivery_mode == integration_pb2.DELIVERY_MODE_POLLING
    assert integration.webhook_url == ""
    assert telegram.webhook(token) is None
    first = fresh_update(700, 1234, "polled hello")
    telegram.queue_update(token, first)
    telegram.queue_update(token, fresh_update(701, 1234, "and again"))

    async def stored() -> bool:
        return await table_count(engine, "messages", integration.id) == 2

    await eventually(stored)
    event = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "700"))
    )
    assert event.message.text == "polled hello"
    assert event.agent_may_reply

    async def confirmed() -> bool:
        return telegram.confirmed_offset(token) == 702

    await eventually(confirmed)
    # Telegram re-sends an update it may think unconfirmed: it is dropped as a duplicate.
    telegram.queue_update(token, first | {"update_id": 702})  # new id, same message
    telegram.queue_update(token, fresh_update(703, 1234, "third"))

    async def three() -> bool:
        return await table_count(engine, "webhook_updates", integration.id) == 4

    await eventually(three)
    assert await table_count(engine, "messages", integration.id) == 3
    assert telegram.poll_conflicts(token) == 0


async def test_a_polling_bot_has_no_webhook_to_call(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    _, integration = await connect_polling(stub, telegram, await new_owner())
    body = json.dumps(fresh_update(1, 1, "hi")).encode()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await webhook(
            stub,
            "telegram",
            integration.id,
            body,
            headers=(("x-telegram-bot-api-secret-token", "anything"),),
        )
    assert reason(error.value) == "INTEGRATION_NOT_FOUND"


async def test_switching_modes_moves_the_webhook(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_polling(stub, telegram, owner)

    async def switch(mode: int) -> integration_pb2.Integration:
        response: social_service_pb2.UpdateIntegrationResponse = await stub.UpdateIntegration(
            social_service_pb2.UpdateIntegrationRequest(
                integration_id=integration.id,
                integration=integration_pb2.Integration(delivery_mode=mode),  # type: ignore[arg-type]
                update_mask=field_mask_pb2.FieldMask(paths=["delivery_mode"]),
            ),
            metadata=owner,
        )
        return response.integration

    as_webhook = await switch(integration_pb2.DELIVERY_MODE_WEBHOOK)
    hook = telegram.webhook(token)
    assert hook is not None
    assert hook.url == as_webhook.webhook_url != ""
    await asyncio.sleep(0.3)  # the poller notices and stops
    answer = await webhook(
        stub,
        "telegram",
        integration.id,
        json.dumps(fresh_update(900, 77, "by webhook")).encode(),
        headers=(("x-telegram-bot-api-secret-token", hook.secret_token),),
    )
    assert answer.body.data == b""
    assert await table_count(engine, "messages", integration.id) == 1
    await switch(integration_pb2.DELIVERY_MODE_POLLING)
    assert telegram.webhook(token) is None
    telegram.queue_update(token, fresh_update(901, 77, "by polling"))

    async def both() -> bool:
        return await table_count(engine, "messages", integration.id) == 2

    await eventually(both)


async def test_other_platforms_cannot_poll(stub: Stub, new_owner: NewOwner) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()),
                max={"bot_token": "t"},
                delivery_mode=integration_pb2.DELIVERY_MODE_POLLING,
            ),
            metadata=await new_owner(),
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error.value) == "DELIVERY_MODE_UNSUPPORTED"


@pytest.fixture
async def redis(auth_stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(auth_stack.redis_url)
    yield client
    await client.aclose()


async def test_one_instance_at_a_time_holds_a_bots_poll_lease(redis: Redis) -> None:
    lease = PollLease(redis, ttl_seconds=30)
    bot = str(uuid.uuid4())
    assert await lease.acquire(bot, "instance-a")
    assert not await lease.acquire(bot, "instance-b")
    assert await lease.renew(bot, "instance-a")
    assert not await lease.renew(bot, "instance-b")
    await lease.release(bot, "instance-b")  # not the holder: nothing happens
    assert not await lease.acquire(bot, "instance-b")
    await lease.release(bot, "instance-a")
    assert await lease.acquire(bot, "instance-b")

"""social with Telegram, end to end in-process: connect, webhooks, replies, owner isolation."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import grpc
import pytest
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import deterministic_id
from tests.social.samples import telegram_update
from tests.social.support import (
    PUBLIC_URL,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    contact_of,
    count,
    eventually,
    outbox_payload,
    owner_id,
    publish_twice,
    reason,
    reply_command,
    reply_status,
    rows,
    sync_succeeded,
    table_count,
    webhook,
)
from tests.standins.telegram import BLOCKED, TelegramStandIn

SECRET_METADATA = "x-telegram-bot-api-secret-token"


@pytest.fixture
def telegram(platforms: Platforms) -> TelegramStandIn:
    return platforms.telegram


async def connect(
    stub: Stub, telegram: TelegramStandIn, owner: Metadata, **fields: Any
) -> tuple[str, integration_pb2.Integration]:
    token = telegram.add_bot(username="shop_bot", first_name="Shop")
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), telegram={"bot_token": token}, **fields
        ),
        metadata=owner,
    )
    return token, response.integration


def secret_of(telegram: TelegramStandIn, token: str) -> str:
    hook = telegram.webhook(token)
    assert hook is not None
    return hook.secret_token


async def deliver(
    stub: Stub, integration_id: str, update: dict[str, Any] | bytes, *, secret: str | None
) -> social_service_pb2.HandleWebhookResponse:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = ((SECRET_METADATA, secret),) if secret is not None else ()
    return await webhook(stub, "telegram", integration_id, body, headers=headers)


async def conversation(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, owner: Metadata, chat_id: int
) -> tuple[str, str, str]:
    """Connect a bot and receive one message: (bot token, integration id, contact id)."""
    token, integration = await connect(stub, telegram, owner)
    update = telegram_update("telegram_text_private_real.json")
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    await deliver(stub, integration.id, update, secret=secret_of(telegram, token))
    contact = await contact_of(engine, integration.id)
    return token, integration.id, str(contact.id)


async def test_connect_checks_the_token_registers_the_webhook_and_stores_it_encrypted(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner(), display_name="My shop")
    assert integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    assert integration.platform == integration_pb2.PLATFORM_TELEGRAM
    assert integration.platform_account_id == token.split(":")[0]
    assert integration.platform_username == "shop_bot"
    assert integration.display_name == "My shop"
    assert integration.webhook_url == f"{PUBLIC_URL}/webhooks/telegram/{integration.id}"
    assert token.encode() not in integration.SerializeToString()
    hook = telegram.webhook(token)
    assert hook is not None
    assert hook.url == integration.webhook_url
    assert 1 <= len(hook.secret_token) <= 256
    [row] = await rows(
        engine,
        "SELECT credentials_encrypted, webhook_secret_encrypted, credentials_key_id"
        " FROM integrations WHERE id = :id",
        id=integration.id,
    )
    assert token.encode() not in row.credentials_encrypted
    assert hook.secret_token.encode() not in row.webhook_secret_encrypted
    assert row.credentials_key_id == "k1"
    event = social_events_pb2.IntegrationConnected.FromString(
        await outbox_payload(
            engine, deterministic_id("social.integration.connected", integration.id)
        )
    )
    assert event.integration.id == integration.id


async def test_connect_is_idempotent_per_request_and_a_bot_connects_once(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token = telegram.add_bot()
    request = social_service_pb2.ConnectIntegrationRequest(
        request_id=str(uuid.uuid4()), telegram={"bot_token": token}
    )
    first = await stub.ConnectIntegration(request, metadata=owner)
    again = await stub.ConnectIntegration(request, metadata=owner)
    assert again.integration.id == first.integration.id
    set_calls = len(telegram.calls("setWebhook"))
    request.request_id = str(uuid.uuid4())
    for metadata in (owner, await new_owner()):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.ConnectIntegration(request, metadata=metadata)
        assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert reason(error.value) == "INTEGRATION_ALREADY_CONNECTED"
    assert len(telegram.calls("setWebhook")) == set_calls


async def test_a_request_id_reused_for_another_bot_is_refused(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner(plan="pro")
    request_id = str(uuid.uuid4())
    await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=request_id, telegram={"bot_token": telegram.add_bot()}
        ),
        metadata=owner,
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=request_id, telegram={"bot_token": telegram.add_bot()}
            ),
            metadata=owner,
        )
    assert reason(error.value) == "REQUEST_ID_REUSED"


async def test_the_plan_limits_connected_accounts(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    free = await new_owner()  # the Free plan allows one account
    await connect(stub, telegram, free)
    token = telegram.add_bot()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), telegram={"bot_token": token}
            ),
            metadata=free,
        )
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason(error.value) == "INTEGRATION_LIMIT_REACHED"
    assert telegram.webhook(token) is None  # refused before touching the platform
    assert (
        await count(
            engine, "SELECT count(*) FROM integrations WHERE owner_id = :o", o=owner_id(free)
        )
        == 1
    )


async def test_concurrent_connects_cannot_both_pass_the_limit(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    requests = [
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), telegram={"bot_token": telegram.add_bot()}
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(
        *(stub.ConnectIntegration(r, metadata=owner) for r in requests), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(refused) == 2
    assert {reason(r) for r in refused} == {"INTEGRATION_LIMIT_REACHED"}
    assert (
        await count(
            engine, "SELECT count(*) FROM integrations WHERE owner_id = :o", o=owner_id(owner)
        )
        == 1
    )


async def test_connect_with_a_rejected_token_stores_nothing(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token = telegram.add_bot()
    telegram.revoke(token)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), telegram={"bot_token": token}
            ),
            metadata=await new_owner(),
        )
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error.value) == "PLATFORM_REJECTED_CREDENTIALS"
    assert token not in (error.value.details() or "")
    assert (
        await count(
            engine,
            "SELECT count(*) FROM integrations WHERE platform_account_id = :a",
            a=token.split(":")[0],
        )
        == 0
    )


async def test_integrations_are_owner_scoped_and_paged(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    owner, stranger = await new_owner(plan="pro"), await new_owner()
    ids = [(await connect(stub, telegram, owner))[1].id for _ in range(3)]
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=ids[0]), metadata=owner
    )
    assert got.integration.id == ids[0]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetIntegration(
            social_service_pb2.GetIntegrationRequest(integration_id=ids[0]), metadata=stranger
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason(error.value) == "INTEGRATION_NOT_FOUND"
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListIntegrations(
            social_service_pb2.ListIntegrationsRequest(page_size=2, page_token=token),
            metadata=owner,
        )
        seen.extend(i.id for i in page.integrations)
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    empty = await stub.ListIntegrations(
        social_service_pb2.ListIntegrationsRequest(), metadata=stranger
    )
    assert list(empty.integrations) == []
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListIntegrations(
            social_service_pb2.ListIntegrationsRequest(page_token="garbage"), metadata=owner
        )
    assert reason(error.value) == "PAGE_TOKEN_INVALID"


async def test_a_webhook_update_is_stored_once_under_redelivery(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    secret = secret_of(telegram, token)
    update = telegram_update("telegram_text_private.json", update_id=424242)
    response = await deliver(stub, integration.id, update, secret=secret)
    assert response.body.data == b""
    # Telegram redelivers when it missed our answer; concurrent copies must collapse too.
    await asyncio.gather(*(deliver(stub, integration.id, update, secret=secret) for _ in range(5)))
    assert await table_count(engine, "webhook_updates", integration.id) == 1
    assert await table_count(engine, "messages", integration.id) == 1
    assert await table_count(engine, "contacts", integration.id) == 1
    event_id = deterministic_id(integration.id, "424242")
    event = social_events_pb2.MessageReceived.FromString(await outbox_payload(engine, event_id))
    assert event.message.text == "/start"
    assert event.platform == integration_pb2.PLATFORM_TELEGRAM
    assert event.contact.platform_user_id == "1111111"
    assert event.contact.display_name == "Test Firstname Test Lastname"
    assert event.agent_may_reply
    assert event.stale  # the sample was written in 2015: stored, flagged, not to be answered

    async def published() -> bool:
        sql = "SELECT count(*) FROM outbox WHERE event_id = :e AND published_at IS NOT NULL"
        return await count(engine, sql, e=event_id) == 1

    await eventually(published)


async def test_a_fresh_message_is_not_stale(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    update = telegram_update("telegram_text_private.json", update_id=5)
    update["message"]["date"] = int(time.time())
    await deliver(stub, integration.id, update, secret=secret_of(telegram, token))
    event = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "5"))
    )
    assert not event.stale


async def test_an_edit_updates_the_stored_message_in_place(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    secret = secret_of(telegram, token)
    for name, update_id in (("telegram_text_private.json", 1), ("telegram_edited_message.json", 2)):
        await deliver(
            stub, integration.id, telegram_update(name, update_id=update_id), secret=secret
        )
    found = await rows(
        engine, "SELECT text, edited FROM messages WHERE integration_id = :i", i=integration.id
    )
    assert [(r.text, r.edited) for r in found] == [("Edited text", True)]


@pytest.mark.parametrize("secret", ["wrong", "", None], ids=["forged", "empty", "missing"])
async def test_a_wrong_or_missing_secret_is_unauthenticated_and_stores_nothing(
    stub: Stub,
    telegram: TelegramStandIn,
    engine: AsyncEngine,
    new_owner: NewOwner,
    secret: str | None,
) -> None:
    _, integration = await connect(stub, telegram, await new_owner())
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver(
            stub, integration.id, telegram_update("telegram_text_private.json"), secret=secret
        )
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(error.value) == "WEBHOOK_SIGNATURE_INVALID"
    assert await table_count(engine, "webhook_updates", integration.id) == 0
    assert await table_count(engine, "contacts", integration.id) == 0


async def test_unknown_integration_or_another_platforms_path_is_not_found(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    body = json.dumps(telegram_update("telegram_text_private.json")).encode()
    headers = ((SECRET_METADATA, secret_of(telegram, token)),)
    for path_id, platform in (
        (str(uuid.uuid4()), "telegram"),
        (integration.id, "vk"),
        (integration.id, "max"),
        (integration.id, "x"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await webhook(stub, platform, path_id, body, headers=headers)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND, platform
        assert reason(error.value) == "INTEGRATION_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1,2]", b'{"update_id":"x"}', b" " * (1024 * 1024 + 1)],
    ids=["malformed", "array", "wrong-type", "oversized"],
)
async def test_bad_bodies_are_invalid_argument_not_internal(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner, body: bytes
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver(stub, integration.id, body, secret=secret_of(telegram, token))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error.value) == "WEBHOOK_PAYLOAD_INVALID"
    assert await table_count(engine, "webhook_updates", integration.id) == 0


async def test_ignored_updates_are_stored_raw_and_acknowledged(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    body = json.dumps(telegram_update("telegram_callback_query.json")).encode()
    await deliver(stub, integration.id, body, secret=secret_of(telegram, token))
    [row] = await rows(
        engine,
        "SELECT body, outcome FROM webhook_updates WHERE integration_id = :i",
        i=integration.id,
    )
    assert row.body == body
    assert row.outcome.startswith("ignored")
    assert await table_count(engine, "messages", integration.id) == 0


async def test_a_contact_who_blocks_the_bot_becomes_unreachable(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, telegram, await new_owner())
    secret = secret_of(telegram, token)
    message = telegram_update("telegram_text_private.json", update_id=10)
    message["message"]["chat"]["id"] = message["message"]["from"]["id"] = 0
    blocked = telegram_update("telegram_my_chat_member_blocked.json", update_id=11)
    for update in (message, blocked):
        await deliver(stub, integration.id, update, secret=secret)
    contact = await contact_of(engine, integration.id)
    assert contact.reachable is False
    assert await table_count(engine, "messages", integration.id) == 1
    event = social_events_pb2.ContactUpdated.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "11"))
    )
    assert event.change == "blocked"
    assert not event.contact.reachable


async def test_a_reply_command_processed_twice_sends_once(
    stub: Stub,
    telegram: TelegramStandIn,
    engine: AsyncEngine,
    bus: EventBus,
    new_owner: NewOwner,
) -> None:
    owner = await new_owner()
    chat_id = 900001
    _, integration_id, contact_id = await conversation(stub, telegram, engine, owner, chat_id)
    reply_id = str(uuid.uuid4())
    await publish_twice(
        bus, reply_command(owner_id(owner), integration_id, contact_id, "Hi there!", reply_id)
    )

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    await asyncio.sleep(0.3)  # let the second copy be processed
    assert [m.text for m in telegram.sent_messages(chat_id)] == ["Hi there!"]
    [row] = await rows(
        engine, "SELECT id, platform_message_id FROM messages WHERE reply_id = :r", r=reply_id
    )
    assert row.platform_message_id == str(telegram.sent_messages(chat_id)[0].message_id)
    event = social_events_pb2.MessageSent.FromString(
        await outbox_payload(engine, deterministic_id("social.message.sent", str(row.id)))
    )
    assert event.reply_id == reply_id


async def test_a_long_reply_is_sent_in_order_as_parts(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat_id = 900005
    _, integration_id, contact_id = await conversation(stub, telegram, engine, owner, chat_id)
    text = " ".join(f"w{i:04d}" for i in range(2000))  # about 12k characters: three parts
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, text, reply_id))

    async def all_sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"] * 3

    await eventually(all_sent)
    parts = [m.text for m in telegram.sent_messages(chat_id)]
    assert "".join(parts) == text
    assert len(parts) == 3


async def test_a_429_is_waited_out_and_the_reply_sent_once(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat_id = 900002
    _, integration_id, contact_id = await conversation(stub, telegram, engine, owner, chat_id)
    telegram.fail_next("sendMessage", error_code=429, retry_after=1)
    reply_id = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), integration_id, contact_id, "after the wait", reply_id)
    )

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    assert [m.text for m in telegram.sent_messages(chat_id)] == ["after the wait"]
    calls = [c for c in telegram.calls("sendMessage") if c.params.get("chat_id") == chat_id]
    assert len(calls) == 2  # the refused one and the one after retry_after


async def test_a_blocked_contact_is_marked_unreachable_and_the_failure_published(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat_id = 900003
    token, integration_id, contact_id = await conversation(stub, telegram, engine, owner, chat_id)
    telegram.block_chat(token, chat_id)
    reply_id = str(uuid.uuid4())
    await publish_twice(
        bus, reply_command(owner_id(owner), integration_id, contact_id, "hello?", reply_id)
    )

    async def failed() -> bool:
        return await reply_status(engine, reply_id) == ["failed"]

    await eventually(failed)
    assert telegram.sent_messages(chat_id) == []
    contact = await contact_of(engine, integration_id)
    assert contact.reachable is False
    [message] = await rows(
        engine, "SELECT id, error_message FROM messages WHERE reply_id = :r", r=reply_id
    )
    assert message.error_message == BLOCKED
    event = social_events_pb2.MessageSendFailed.FromString(
        await outbox_payload(
            engine, deterministic_id("social.message.send_failed", str(message.id))
        )
    )
    assert event.permanent
    assert event.reply_id == reply_id
    assert event.error_message == BLOCKED
    await asyncio.sleep(0.3)
    calls = [c for c in telegram.calls("sendMessage") if c.params.get("chat_id") == chat_id]
    assert len(calls) == 1


async def test_a_revoked_token_fails_the_send_and_puts_the_integration_in_error(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration_id, contact_id = await conversation(stub, telegram, engine, owner, 900006)
    telegram.revoke(token)
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "hi", reply_id))

    async def failed() -> bool:
        return await reply_status(engine, reply_id) == ["failed"]

    await eventually(failed)
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration_id), metadata=owner
    )
    assert got.integration.status == integration_pb2.INTEGRATION_STATUS_ERROR
    assert "Unauthorized" in got.integration.last_error
    assert token not in got.integration.last_error


async def test_contacts_not_allowed_are_stored_but_not_handed_to_the_agent(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect(
        stub, telegram, owner, default_contact_policy=integration_pb2.CONTACT_POLICY_DENY_ALL
    )
    chat_id = 900004
    update = telegram_update("telegram_text_private_real.json", update_id=77)
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    await deliver(stub, integration.id, update, secret=secret_of(telegram, token))
    event = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "77"))
    )
    assert event.message.text == "4"
    assert not event.contact.agent_allowed
    assert not event.agent_may_reply
    contact = await contact_of(engine, integration.id)
    # A reply that was already on its way is dropped, not sent.
    reply_id = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), integration.id, str(contact.id), "no", reply_id)
    )
    await asyncio.sleep(0.5)
    assert telegram.sent_messages(chat_id) == []
    assert await count(engine, "SELECT count(*) FROM messages WHERE reply_id = :r", r=reply_id) == 0


async def test_contact_sync_refreshes_known_telegram_contacts(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat_id = 900007
    _, integration_id, contact_id = await conversation(stub, telegram, engine, owner, chat_id)
    telegram.add_user(chat_id, first_name="Renamed", last_name="Person", username="renamed")
    started = await stub.SyncContacts(
        social_service_pb2.SyncContactsRequest(integration_id=integration_id), metadata=owner
    )
    assert started.sync.state == integration_pb2.CONTACT_SYNC_STATE_RUNNING

    await eventually(lambda: sync_succeeded(stub, owner, integration_id))
    contact = await stub.GetContact(
        social_service_pb2.GetContactRequest(contact_id=contact_id), metadata=owner
    )
    assert contact.contact.platform_display_name == "Renamed Person"
    assert contact.contact.username == "renamed"

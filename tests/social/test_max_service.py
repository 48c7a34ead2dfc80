"""social with MAX, end to end in-process: connect (GET /me + subscription with a secret),
verify, parse every update kind, de-duplicate, send, contacts."""

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
from tests.social.samples import sample
from tests.social.support import (
    PUBLIC_URL,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    contact_of,
    eventually,
    outbox_payload,
    owner_id,
    reason,
    reply_command,
    reply_status,
    rows,
    sync_succeeded,
    table_count,
    webhook,
)
from tests.standins.max import MaxStandIn

SECRET_METADATA = "x-max-bot-api-secret"
JOHN = 123456789


@pytest.fixture
def max_api(platforms: Platforms) -> MaxStandIn:
    return platforms.max


async def connect(
    stub: Stub, max_api: MaxStandIn, owner: Metadata
) -> tuple[str, integration_pb2.Integration]:
    token = max_api.add_bot(username="shop_bot", name="Shop")
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), max={"bot_token": token}
        ),
        metadata=owner,
    )
    return token, response.integration


async def deliver(
    stub: Stub,
    max_api: MaxStandIn,
    token: str,
    integration_id: str,
    update: dict[str, Any],
    *,
    secret: str | None = None,
) -> social_service_pb2.HandleWebhookResponse:
    hook = max_api.subscription(token)
    assert hook is not None
    chosen = hook.secret if secret is None else secret
    headers = ((SECRET_METADATA, chosen),) if chosen else ()
    return await webhook(stub, "max", integration_id, json.dumps(update).encode(), headers=headers)


def dialog_message(kind: str, mid: str, text: str, timestamp: int) -> dict[str, Any]:
    update = sample("max_message_edited_dialog.json")
    update["update_type"] = kind
    update["timestamp"] = timestamp
    update["message"]["body"].update(mid=mid, text=text)
    update["message"]["timestamp"] = int(time.time() * 1000)
    return update


async def test_connect_checks_the_token_and_subscribes_with_a_secret(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, max_api, await new_owner())
    assert integration.platform == integration_pb2.PLATFORM_MAX
    assert integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    assert integration.platform_account_id == str(max_api.bot_id(token))
    assert integration.display_name == "Shop"
    hook = max_api.subscription(token)
    assert hook is not None
    assert hook.url == f"{PUBLIC_URL}/webhooks/max/{integration.id}" == integration.webhook_url
    assert 5 <= len(hook.secret) <= 256
    assert set(hook.update_types) >= {"message_created", "bot_started", "bot_stopped"}
    [row] = await rows(
        engine,
        "SELECT credentials_encrypted, webhook_secret_encrypted FROM integrations WHERE id = :i",
        i=integration.id,
    )
    assert token.encode() not in row.credentials_encrypted
    assert hook.secret.encode() not in row.webhook_secret_encrypted


async def test_an_invalid_token_is_rejected(
    stub: Stub, max_api: MaxStandIn, new_owner: NewOwner
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), max={"bot_token": "not-a-max-token"}
            ),
            metadata=await new_owner(),
        )
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error.value) == "PLATFORM_REJECTED_CREDENTIALS"
    assert "Invalid access_token" in (error.value.details() or "")


async def test_updates_are_verified_and_answered_ok_json(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, max_api, await new_owner())
    update = dialog_message("message_created", "mid.1", "hi bot", 1_775_025_604_499)
    answer = await deliver(stub, max_api, token, integration.id, update)
    assert (answer.body.content_type, answer.body.data) == ("application/json", b'{"ok":true}')
    for forged in ("wrong-secret", ""):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await deliver(
                stub,
                max_api,
                token,
                integration.id,
                dialog_message("message_created", "mid.2", "forged", 1),
                secret=forged,
            )
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await table_count(engine, "webhook_updates", integration.id) == 1


async def test_a_dialog_lifecycle(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    token, integration = await connect(stub, max_api, await new_owner())

    async def send(update: dict[str, Any]) -> None:
        await deliver(stub, max_api, token, integration.id, update)

    await send(sample("max_bot_started.json"))
    contact = await contact_of(engine, integration.id)
    assert (contact.platform_user_id, contact.platform_display_name) == (str(JOHN), "John Doe")
    assert contact.reachable
    created = dialog_message("message_created", "mid.a", "first", 1_775_025_604_000)
    await asyncio.gather(*(send(created) for _ in range(3)))  # redelivered: stored once
    await send(dialog_message("message_edited", "mid.a", "second", 1_775_025_605_000))
    await send(dialog_message("message_edited", "mid.a", "third", 1_775_025_606_000))
    [message] = await rows(
        engine,
        "SELECT text, edited, deleted FROM messages WHERE integration_id = :i",
        i=integration.id,
    )
    assert (message.text, message.edited, message.deleted) == ("third", True, False)
    removed = sample("max_message_removed.json") | {"message_id": "mid.a"}
    await send(removed)
    [message] = await rows(
        engine, "SELECT text, deleted FROM messages WHERE integration_id = :i", i=integration.id
    )
    assert (message.text, message.deleted) == ("third", True)  # the content is kept
    await send(sample("max_message_callback.json"))
    await send(sample("max_message_created_chat_forward.json"))
    await send(sample("max_bot_stopped.json"))
    assert (await contact_of(engine, integration.id)).reachable is False
    assert await table_count(engine, "messages", integration.id) == 1
    outcomes = await rows(
        engine,
        "SELECT outcome FROM webhook_updates WHERE integration_id = :i ORDER BY id",
        i=integration.id,
    )
    assert [o.outcome.split(":")[0] for o in outcomes] == [
        "contact",
        "message",
        "edit",
        "edit",
        "removed",
        "ignored",
        "ignored",
        "contact",
    ]
    received = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "message_created:mid.a"))
    )
    assert received.platform == integration_pb2.PLATFORM_MAX
    assert received.agent_may_reply


async def _conversation(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, owner: Metadata
) -> tuple[str, str, str]:
    token, integration = await connect(stub, max_api, owner)
    await deliver(
        stub, max_api, token, integration.id, dialog_message("message_created", "mid.z", "hi", 1)
    )
    return token, integration.id, str((await contact_of(engine, integration.id)).id)


async def test_a_reply_survives_a_429_and_is_sent_once(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration_id, contact_id = await _conversation(stub, max_api, engine, owner)
    max_api.fail_next("POST /messages", status=429, code="too.many.requests", retry_after=1)
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "Hi!", reply_id))

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    sent_to_john = [m for m in max_api.sent_messages(JOHN) if m.token == token]
    assert [m.text for m in sent_to_john] == ["Hi!"]


async def test_a_user_who_stopped_the_bot_fails_the_reply(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration_id, contact_id = await _conversation(stub, max_api, engine, owner)
    max_api.stop_bot(token, user_id=JOHN)
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "Hi!", reply_id))

    async def failed() -> bool:
        return await reply_status(engine, reply_id) == ["failed"]

    await eventually(failed)
    assert (await contact_of(engine, integration_id)).reachable is False


async def test_the_owner_cannot_send_more_than_max_accepts(
    stub: Stub, max_api: MaxStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    _, _, contact_id = await _conversation(stub, max_api, engine, owner)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.SendMessage(
            social_service_pb2.SendMessageRequest(
                contact_id=contact_id, request_id=str(uuid.uuid4()), text="x" * 4001
            ),
            metadata=owner,
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(error.value) == "MESSAGE_TOO_LONG"


async def test_contact_sync_reads_the_bots_dialogs(
    stub: Stub, max_api: MaxStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect(stub, max_api, owner)
    max_api.add_dialog(token, sample("max_get_chat_dialog_response.json"))
    max_api.add_dialog(token, {"chat_id": -5, "type": "chat", "title": "a group"})
    await stub.SyncContacts(
        social_service_pb2.SyncContactsRequest(integration_id=integration.id), metadata=owner
    )
    await eventually(lambda: sync_succeeded(stub, owner, integration.id))
    listed = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(integration_id=integration.id), metadata=owner
    )
    assert [(c.platform_user_id, c.display_name) for c in listed.contacts] == [
        ("123123123", "John Doe")
    ]

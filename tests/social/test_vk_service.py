"""social with VK, end to end in-process: connect (callback server, confirmation handshake),
verify, parse, de-duplicate, send through messages.send, contacts."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import grpc
import pytest
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import deterministic_id
from services.social.platforms.vk import random_id
from tests.social.samples import sample
from tests.social.support import (
    PUBLIC_URL,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    contact_of,
    error_info,
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
from tests.standins.vk import VkStandIn

_groups = iter(range(300_000_001, 400_000_000))


@pytest.fixture
def vk(platforms: Platforms) -> VkStandIn:
    return platforms.vk


async def connect(
    stub: Stub, vk: VkStandIn, owner: Metadata, **credentials: Any
) -> tuple[str, integration_pb2.Integration]:
    group_id = next(_groups)
    rights = credentials.pop("rights", ("messages", "manage"))
    token = vk.add_community(group_id=group_id, name="Shop", screen_name="shop", rights=rights)
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()),
            vk={"community_token": token, "group_id": group_id, **credentials},
        ),
        metadata=owner,
    )
    return token, response.integration


def secret_of(vk: VkStandIn, token: str) -> str:
    server = vk.callback_server(token)
    assert server is not None
    return server.secret_key


async def call(
    stub: Stub, integration: integration_pb2.Integration, event: dict[str, Any], **envelope: Any
) -> social_service_pb2.HandleWebhookResponse:
    body = {**event, "group_id": int(integration.platform_account_id), **envelope}
    return await webhook(stub, "vk", integration.id, json.dumps(body).encode())


def text_message(user_id: int, text: str, message_id: int) -> dict[str, Any]:
    event = sample("vk_message_new_text.json")
    event["object"]["message"].update(
        from_id=user_id, peer_id=user_id, text=text, id=message_id, date=1_700_000_000
    )
    return event


async def active(
    stub: Stub, vk: VkStandIn, owner: Metadata
) -> tuple[str, integration_pb2.Integration, str]:
    """A connected, confirmed community: (token, integration, callback secret)."""
    token, integration = await connect(stub, vk, owner)
    secret = secret_of(vk, token)
    await call(stub, integration, {"type": "confirmation"}, secret=secret)
    return token, integration, secret


async def test_connect_registers_a_callback_server_and_waits_for_confirmation(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect(stub, vk, owner)
    assert integration.platform == integration_pb2.PLATFORM_VK
    assert integration.status == integration_pb2.INTEGRATION_STATUS_CONNECTING
    assert integration.platform_username == "shop"
    assert integration.display_name == "Shop"
    assert integration.webhook_url == f"{PUBLIC_URL}/webhooks/vk/{integration.id}"
    server = vk.callback_server(token)
    assert server is not None
    assert server.url == integration.webhook_url
    assert server.secret_key.isalnum()
    assert len(server.secret_key) <= 50
    assert server.settings["message_new"] == "1"

    answer = await call(stub, integration, {"type": "confirmation"}, secret=server.secret_key)
    assert answer.body.content_type == "text/plain"
    assert answer.body.data == vk.confirmation_code(token).encode()
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration.id), metadata=owner
    )
    assert got.integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    event = social_events_pb2.IntegrationConnected.FromString(
        await outbox_payload(
            engine, deterministic_id("social.integration.connected", integration.id)
        )
    )
    assert event.integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    again = await call(stub, integration, {"type": "confirmation"}, secret=server.secret_key)
    assert again.body.data == vk.confirmation_code(token).encode()
    [row] = await rows(
        engine, "SELECT credentials_encrypted FROM integrations WHERE id = :i", i=integration.id
    )
    assert token.encode() not in row.credentials_encrypted
    assert vk.confirmation_code(token).encode() not in row.credentials_encrypted


async def test_an_owner_registered_server_needs_only_the_messages_right(
    stub: Stub, vk: VkStandIn, new_owner: NewOwner
) -> None:
    _, integration = await connect(
        stub,
        vk,
        await new_owner(),
        rights=("messages",),
        callback_secret="OwnerChosenSecret1",
        confirmation_code="a1b2c3",
    )
    answer = await call(stub, integration, {"type": "confirmation"}, secret="OwnerChosenSecret1")
    assert answer.body.data == b"a1b2c3"


async def test_registering_the_server_needs_the_manage_right(
    stub: Stub, vk: VkStandIn, new_owner: NewOwner
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await connect(stub, vk, await new_owner(), rights=("messages",))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error.value) == "PLATFORM_PERMISSION_MISSING"
    assert error_info(error.value).metadata["missing"] == "manage"


async def test_a_token_of_another_community_is_rejected(
    stub: Stub, vk: VkStandIn, new_owner: NewOwner
) -> None:
    token = vk.add_community(group_id=next(_groups))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()),
                vk={"community_token": token, "group_id": next(_groups)},
            ),
            metadata=await new_owner(),
        )
    assert reason(error.value) == "PLATFORM_REJECTED_CREDENTIALS"


async def test_an_event_is_verified_stored_once_and_answered_ok(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    _, integration, secret = await active(stub, vk, await new_owner())
    event = text_message(418618, "How much?", 1709)
    answers = await asyncio.gather(
        *(call(stub, integration, event, secret=secret, event_id="ev-1") for _ in range(4))
    )
    assert {(a.body.content_type, a.body.data) for a in answers} == {("text/plain", b"ok")}
    assert await table_count(engine, "messages", integration.id) == 1
    received = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "ev-1"))
    )
    assert received.platform == integration_pb2.PLATFORM_VK
    assert received.message.text == "How much?"
    assert received.message.platform_message_id == "1709"
    assert received.contact.platform_user_id == "418618"


@pytest.mark.parametrize(
    "envelope",
    [{"secret": "forged"}, {}, {"group_id": 1}],
    ids=["forged-secret", "no-secret", "other-community"],
)
async def test_forged_or_misdirected_events_are_refused_and_nothing_stored(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner, envelope: dict[str, Any]
) -> None:
    _, integration, secret = await active(stub, vk, await new_owner())
    event = text_message(418618, "hi", 1)
    fields = {"event_id": "ev-x", "secret": secret, **envelope}
    if not envelope:
        fields.pop("secret")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(stub, integration, event, **fields)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await table_count(engine, "webhook_updates", integration.id) == 0


async def test_the_photo_sample_and_ignored_events(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    _, integration, secret = await active(stub, vk, await new_owner())
    photo = sample("vk_message_new_photo.json")
    photo.pop("group_id")
    await call(stub, integration, photo, secret=secret)
    for name in ("vk_group_join.json", "vk_message_new_chat_action_legacy.json"):
        await call(stub, integration, sample(name), secret=secret, event_id=name)
    [message] = await rows(
        engine, "SELECT text, attachments FROM messages WHERE integration_id = :i", i=integration.id
    )
    assert [a["platform_file_id"] for a in message.attachments] == [
        "photo259166248_457281385_8d73b853538b295088",
        "photo259166248_457281386_1f72efe606ae12fd92",
    ]
    outcomes = await rows(
        engine,
        "SELECT outcome FROM webhook_updates WHERE integration_id = :i ORDER BY id",
        i=integration.id,
    )
    assert [o.outcome.split(":")[0] for o in outcomes] == ["message", "ignored", "ignored"]


async def test_deny_and_allow_change_reachability(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    _, integration, secret = await active(stub, vk, await new_owner())
    await call(stub, integration, text_message(555, "hi", 1), secret=secret, event_id="a")
    deny = {"type": "message_deny", "object": {"user_id": 555}}
    await call(stub, integration, deny, secret=secret, event_id="b")
    assert (await contact_of(engine, integration.id)).reachable is False
    allow = {"type": "message_allow", "object": {"user_id": 555, "key": "k"}}
    await call(stub, integration, allow, secret=secret, event_id="c")
    assert (await contact_of(engine, integration.id)).reachable is True


async def _conversation(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, owner: Metadata, user_id: int
) -> tuple[str, str, str]:
    token, integration, secret = await active(stub, vk, owner)
    await call(stub, integration, text_message(user_id, "hello", 7), secret=secret, event_id="in")
    return token, integration.id, str((await contact_of(engine, integration.id)).id)


async def test_a_reply_is_sent_once_with_a_random_id_from_the_message(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    user_id = 610001
    _, integration_id, contact_id = await _conversation(stub, vk, engine, owner, user_id)
    vk.fail_next("messages.send", error_code=6)  # too many requests per second: retried
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "Hi!", reply_id))

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    [message] = await rows(
        engine, "SELECT id, platform_message_id FROM messages WHERE reply_id = :r", r=reply_id
    )
    [delivered] = vk.sent_messages(user_id)
    assert delivered.text == "Hi!"
    assert delivered.random_id == random_id(str(message.id))
    assert message.platform_message_id == str(delivered.message_id)
    attempts = [c for c in vk.calls("messages.send") if c["peer_id"] == str(user_id)]
    assert len(attempts) == 2
    assert {c["random_id"] for c in attempts} == {str(delivered.random_id)}


async def test_a_user_who_denied_messages_makes_the_send_fail_for_good(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    user_id = 610002
    token, integration_id, contact_id = await _conversation(stub, vk, engine, owner, user_id)
    vk.deny_messages(token, user_id)
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "Hi!", reply_id))

    async def failed() -> bool:
        return await reply_status(engine, reply_id) == ["failed"]

    await eventually(failed)
    assert (await contact_of(engine, integration_id)).reachable is False
    assert vk.sent_messages(user_id) == []


async def test_contact_sync_reads_the_conversations(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration, secret = await active(stub, vk, owner)
    await call(stub, integration, text_message(700001, "hi", 1), secret=secret, event_id="e")
    for user in (700001, 700002, 700003):
        vk.add_conversation(token, peer_id=user, first_name=f"N{user}", screen_name=f"s{user}")
    vk.add_conversation(token, peer_id=2_000_000_005)
    await stub.SyncContacts(
        social_service_pb2.SyncContactsRequest(integration_id=integration.id), metadata=owner
    )

    await eventually(lambda: sync_succeeded(stub, owner, integration.id))
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration.id), metadata=owner
    )
    sync = got.integration.last_contact_sync
    assert (sync.contacts_seen, sync.contacts_created, sync.contacts_updated) == (3, 2, 1)
    listed = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(
            integration_id=integration.id, order_by="display_name asc"
        ),
        metadata=owner,
    )
    assert [c.display_name for c in listed.contacts] == ["N700001", "N700002", "N700003"]
    assert {c.username for c in listed.contacts} == {"s700001", "s700002", "s700003"}


async def test_an_admin_writing_in_vk_pauses_the_agent(
    stub: Stub, vk: VkStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    _, integration, secret = await active(stub, vk, owner)
    await call(stub, integration, text_message(620001, "hi", 1), secret=secret, event_id="a")
    reply = sample("vk_message_new_text.json")["object"]["message"]
    reply.update(peer_id=620001, from_id=-1, out=1, admin_author_id=5, id=2, text="Owner here")
    await call(
        stub, integration, {"type": "message_reply", "object": reply}, secret=secret, event_id="b"
    )
    contact = await contact_of(engine, integration.id)
    assert contact.agent_paused
    found = await rows(
        engine,
        "SELECT direction, author_kind, status, text FROM messages WHERE integration_id = :i"
        " ORDER BY created_at",
        i=integration.id,
    )
    assert [(m.direction, m.author_kind, m.status, m.text) for m in found] == [
        ("inbound", "contact", "received", "hi"),
        ("outbound", "owner", "sent", "Owner here"),
    ]
    paused = social_events_pb2.ContactUpdated.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "b", "paused"))
    )
    assert paused.change == "agent_paused"
    reply_id = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), integration.id, str(contact.id), "agent", reply_id)
    )
    await asyncio.sleep(0.3)
    assert vk.sent_messages(620001) == []  # the agent does not talk over the owner

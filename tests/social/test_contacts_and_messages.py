"""Contacts (search, filters, pages, allow/deny, default policy), history, the owner's own
messages (which pause the agent), internal reads, deletion, and isolation between owners."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import (
    contact_pb2,
    integration_pb2,
    message_pb2,
    social_service_pb2,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import deterministic_id
from services.social.access_tokens import AccessTokens
from services.social.contact_sync import ContactSyncer
from services.social.crypto import TokenCipher
from services.social.platforms.telegram import TelegramAdapter, TelegramClient
from services.social.platforms.x import XClient
from tests.social.samples import telegram_update
from tests.social.support import (
    ENCRYPTION_KEYS,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    count,
    eventually,
    outbox_payload,
    owner_id,
    reason,
    reply_command,
    rows,
    webhook,
)
from tests.standins.telegram import TelegramStandIn

SECRET_METADATA = "x-telegram-bot-api-secret-token"
_chats = iter(range(810_000_001, 820_000_000))
_updates = iter(range(1, 10_000_000))


@dataclass
class Shop:
    owner: Metadata
    token: str
    integration_id: str
    secret: str


async def open_shop(stub: Stub, telegram: TelegramStandIn, owner: Metadata) -> Shop:
    token = telegram.add_bot()
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), telegram={"bot_token": token}
        ),
        metadata=owner,
    )
    hook = telegram.webhook(token)
    assert hook is not None
    return Shop(owner, token, response.integration.id, hook.secret_token)


async def write_in(
    stub: Stub,
    shop: Shop,
    *,
    chat_id: int,
    first_name: str,
    username: str = "",
    text: str = "hi",
    date: int | None = None,
) -> str:
    """A contact writes to the shop's bot; returns the update id used."""
    update = telegram_update("telegram_text_private.json", update_id=next(_updates))
    message = update["message"]
    message["chat"]["id"] = message["from"]["id"] = chat_id
    message["from"].update(first_name=first_name, last_name="", username=username)
    message.update(text=text, message_id=update["update_id"], date=date or int(time.time()))
    await webhook(
        stub,
        "telegram",
        shop.integration_id,
        json.dumps(update).encode(),
        headers=((SECRET_METADATA, shop.secret),),
    )
    return str(update["update_id"])


async def contact_id_of(stub: Stub, shop: Shop, chat_id: int) -> str:
    listed = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(integration_id=shop.integration_id, page_size=100),
        metadata=shop.owner,
    )
    [found] = [c.id for c in listed.contacts if c.platform_user_id == str(chat_id)]
    return str(found)


@pytest.fixture
def telegram(platforms: Platforms) -> TelegramStandIn:
    return platforms.telegram


async def _list(stub: Stub, owner: Metadata, **fields: Any) -> list[contact_pb2.Contact]:
    response = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(**fields), metadata=owner
    )
    return list(response.contacts)


async def test_search_filters_order_and_pages(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    people = [("Anna", "anna_k"), ("boris", "bob"), ("Clara", ""), ("Dmitry", "dima"), ("Eve", "")]
    chats = {}
    for minutes_ago, (name, username) in zip(range(len(people), 0, -1), people, strict=True):
        chats[name] = next(_chats)
        await write_in(
            stub,
            shop,
            chat_id=chats[name],
            first_name=name,
            username=username,
            date=int(time.time()) - 60 * minutes_ago,
        )
    owner = shop.owner
    by_name = await _list(stub, owner, order_by="display_name asc")
    assert [c.display_name for c in by_name] == ["Anna", "boris", "Clara", "Dmitry", "Eve"]
    newest = await _list(stub, owner)  # last_message_time desc
    assert [c.display_name for c in newest] == ["Eve", "Dmitry", "Clara", "boris", "Anna"]
    oldest = await _list(stub, owner, order_by="last_message_time asc")
    assert [c.display_name for c in oldest] == ["Anna", "boris", "Clara", "Dmitry", "Eve"]
    assert [c.display_name for c in await _list(stub, owner, query="BOB")] == ["boris"]
    assert [c.display_name for c in await _list(stub, owner, query="@dim")] == ["Dmitry"]
    assert [c.display_name for c in await _list(stub, owner, query="a_k")] == ["Anna"]
    assert await _list(stub, owner, query="%") == []  # LIKE wildcards are literal

    pages: list[str] = []
    token = ""
    while True:
        page = await stub.ListContacts(
            social_service_pb2.ListContactsRequest(
                page_size=2, page_token=token, order_by="display_name desc"
            ),
            metadata=owner,
        )
        pages.append(",".join(c.display_name for c in page.contacts))
        token = page.next_page_token
        if not token:
            break
    assert pages == ["Eve,Dmitry", "Clara,boris", "Anna"]
    first = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(page_size=2, order_by="display_name desc"),
        metadata=owner,
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:  # a token of another order
        await stub.ListContacts(
            social_service_pb2.ListContactsRequest(
                page_size=2, page_token=first.next_page_token, order_by="display_name asc"
            ),
            metadata=owner,
        )
    assert reason(error.value) == "PAGE_TOKEN_INVALID"


async def test_allow_deny_and_the_default_policy(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    owner = shop.owner
    vip, other = next(_chats), next(_chats)
    await write_in(stub, shop, chat_id=vip, first_name="Vip")
    await write_in(stub, shop, chat_id=other, first_name="Other")
    vip_id = await contact_id_of(stub, shop, vip)
    updated = await stub.UpdateContact(
        social_service_pb2.UpdateContactRequest(
            contact_id=vip_id,
            contact=contact_pb2.Contact(
                agent_access=contact_pb2.AGENT_ACCESS_ALLOWED, display_name="My VIP"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["agent_access", "display_name"]),
        ),
        metadata=owner,
    )
    assert updated.contact.display_name == "My VIP"
    assert updated.contact.platform_display_name == "Vip"
    policy = await stub.UpdateIntegration(
        social_service_pb2.UpdateIntegrationRequest(
            integration_id=shop.integration_id,
            integration=integration_pb2.Integration(
                default_contact_policy=integration_pb2.CONTACT_POLICY_DENY_ALL
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["default_contact_policy"]),
        ),
        metadata=owner,
    )
    assert policy.integration.default_contact_policy == integration_pb2.CONTACT_POLICY_DENY_ALL
    allowed = await _list(stub, owner, agent_allowed=True)
    assert [c.display_name for c in allowed] == ["My VIP"]
    denied = await _list(stub, owner, agent_allowed=False)
    assert [c.display_name for c in denied] == ["Other"]
    inherit = await _list(stub, owner, agent_access=contact_pb2.AGENT_ACCESS_INHERIT)
    assert [c.display_name for c in inherit] == ["Other"]
    # The next message of a contact not allowed is stored but not for the agent.
    update_id = await write_in(stub, shop, chat_id=other, first_name="Other", text="again")
    event = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(shop.integration_id, update_id))
    )
    assert not event.agent_may_reply
    # Setting the name empty goes back to the platform's.
    reset = await stub.UpdateContact(
        social_service_pb2.UpdateContactRequest(
            contact_id=vip_id,
            contact=contact_pb2.Contact(display_name=""),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        ),
        metadata=owner,
    )
    assert reset.contact.display_name == "Vip"
    for paths in (["username"], ["reachable"], []):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.UpdateContact(
                social_service_pb2.UpdateContactRequest(
                    contact_id=vip_id,
                    contact=contact_pb2.Contact(),
                    update_mask=field_mask_pb2.FieldMask(paths=paths),
                ),
                metadata=owner,
            )
        assert reason(error.value) == "FIELD_NOT_UPDATABLE"


async def test_the_owner_writing_pauses_the_agent_until_resumed(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    owner = shop.owner
    chat = next(_chats)
    await write_in(stub, shop, chat_id=chat, first_name="Client")
    contact_id = await contact_id_of(stub, shop, chat)
    request_id = str(uuid.uuid4())
    request = social_service_pb2.SendMessageRequest(
        contact_id=contact_id, request_id=request_id, text="Hello, it is me."
    )
    sent = await stub.SendMessage(request, metadata=owner)
    assert sent.message.author_kind == message_pb2.AUTHOR_KIND_OWNER
    assert sent.message.direction == message_pb2.MESSAGE_DIRECTION_OUTBOUND
    again = await stub.SendMessage(request, metadata=owner)
    assert again.message.id == sent.message.id
    request.text = "something else"
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.SendMessage(request, metadata=owner)
    assert reason(error.value) == "REQUEST_ID_REUSED"

    async def delivered() -> bool:
        got = await stub.GetMessage(
            social_service_pb2.GetMessageRequest(message_id=sent.message.id), metadata=owner
        )
        return int(got.message.status) == message_pb2.MESSAGE_STATUS_SENT

    await eventually(delivered)
    assert [m.text for m in telegram.sent_messages(chat)] == ["Hello, it is me."]
    contact = await stub.GetContact(
        social_service_pb2.GetContactRequest(contact_id=contact_id), metadata=owner
    )
    assert contact.contact.agent_paused
    assert contact.contact.HasField("agent_pause_time")
    paused = social_events_pb2.ContactUpdated.FromString(
        await outbox_payload(
            engine, deterministic_id("social.contact.paused", owner_id(owner), request_id)
        )
    )
    assert paused.change == "agent_paused"
    # The agent's reply, already on its way, is not sent over the human.
    reply_id = str(uuid.uuid4())
    await bus.publish(
        reply_command(owner_id(owner), shop.integration_id, contact_id, "agent", reply_id)
    )
    await asyncio.sleep(0.4)
    assert [m.text for m in telegram.sent_messages(chat)] == ["Hello, it is me."]
    resumed = await stub.ResumeAgent(
        social_service_pb2.ResumeAgentRequest(contact_id=contact_id), metadata=owner
    )
    assert not resumed.contact.agent_paused
    assert not resumed.contact.HasField("agent_pause_time")
    again_resumed = await stub.ResumeAgent(
        social_service_pb2.ResumeAgentRequest(contact_id=contact_id), metadata=owner
    )
    assert not again_resumed.contact.agent_paused
    changes = await rows(
        engine,
        "SELECT payload FROM outbox WHERE event_type = :t ORDER BY seq",
        t=social_events_pb2.ContactUpdated.DESCRIPTOR.full_name,
    )
    mine = [
        social_events_pb2.ContactUpdated.FromString(r.payload)
        for r in changes
        if social_events_pb2.ContactUpdated.FromString(r.payload).contact.id == contact_id
    ]
    assert [e.change for e in mine] == ["agent_paused", "agent_resumed"]
    listed = await _list(stub, owner, agent_paused=False)
    assert [c.id for c in listed] == [contact_id]


async def test_nothing_is_sent_to_an_unreachable_contact(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    blocked = telegram_update("telegram_my_chat_member_blocked.json", update_id=next(_updates))
    blocked["my_chat_member"]["chat"]["id"] = chat = next(_chats)
    await webhook(
        stub,
        "telegram",
        shop.integration_id,
        json.dumps(blocked).encode(),
        headers=((SECRET_METADATA, shop.secret),),
    )
    contact_id = await contact_id_of(stub, shop, chat)
    assert [c.id for c in await _list(stub, shop.owner, reachable=False)] == [contact_id]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.SendMessage(
            social_service_pb2.SendMessageRequest(
                contact_id=contact_id, request_id=str(uuid.uuid4()), text="hi"
            ),
            metadata=shop.owner,
        )
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error.value) == "CONTACT_UNREACHABLE"


async def test_history_pages_both_ways_and_feeds_the_agent_context(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    chat = next(_chats)
    for index in range(5):
        await write_in(stub, shop, chat_id=chat, first_name="Client", text=f"m{index}")
    contact_id = await contact_id_of(stub, shop, chat)
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListMessages(
            social_service_pb2.ListMessagesRequest(
                contact_id=contact_id, page_size=2, page_token=token, order_by="create_time asc"
            ),
            metadata=shop.owner,
        )
        seen.extend(m.text for m in page.messages)
        token = page.next_page_token
        if not token:
            break
    assert seen == ["m0", "m1", "m2", "m3", "m4"]
    newest = await stub.ListMessages(
        social_service_pb2.ListMessagesRequest(contact_id=contact_id, page_size=1),
        metadata=shop.owner,
    )
    assert [m.text for m in newest.messages] == ["m4"]
    context = await stub.GetConversationContext(
        social_service_pb2.GetConversationContextRequest(
            contact_id=contact_id, max_messages=3, until_message_id=seen_id(newest)
        ),
        metadata=shop.owner,
    )
    assert [m.text for m in context.messages] == ["m2", "m3", "m4"]
    assert context.integration.id == shop.integration_id
    batch = await stub.BatchGetContacts(
        social_service_pb2.BatchGetContactsRequest(contact_ids=[str(uuid.uuid4()), contact_id]),
        metadata=shop.owner,
    )
    assert [c.id for c in batch.contacts] == [contact_id]


def seen_id(page: social_service_pb2.ListMessagesResponse) -> str:
    return str(page.messages[0].id)


async def test_deleting_an_integration_removes_its_webhook_and_history(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    await write_in(stub, shop, chat_id=next(_chats), first_name="Client")
    deleted = await stub.DeleteIntegration(
        social_service_pb2.DeleteIntegrationRequest(integration_id=shop.integration_id),
        metadata=shop.owner,
    )
    assert deleted.webhook_removed
    assert telegram.webhook(shop.token) is None
    assert (
        await count(
            engine, "SELECT count(*) FROM contacts WHERE integration_id = :i", i=shop.integration_id
        )
        == 0
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await write_in(stub, shop, chat_id=next(_chats), first_name="Late")
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    # The freed slot can be used again on the Free plan.
    await open_shop(stub, telegram, shop.owner)


async def test_hourly_sync_starts_for_integrations_due(
    stub: Stub, telegram: TelegramStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    chat = next(_chats)
    await write_in(stub, shop, chat_id=chat, first_name="Before")
    telegram.add_user(chat, first_name="After")
    async with httpx.AsyncClient() as http:
        syncer = ContactSyncer(
            engine=engine,
            adapters={
                "telegram": TelegramAdapter(TelegramClient(http, api_base=telegram.base_url))
            },
            tokens=AccessTokens(
                engine=engine,
                cipher=TokenCipher.from_spec(ENCRYPTION_KEYS),
                x_client=XClient(http),
                x_oauth=None,
            ),
        )
        assert await syncer.run_due(interval=timedelta(hours=1), limit=1000) >= 1
        await syncer.wait_idle()
        # It ran within the hour: a second pass does not start it again.
        await syncer.run_due(interval=timedelta(hours=1), limit=1000)
        await syncer.wait_idle()
    contact_id = await contact_id_of(stub, shop, chat)
    contact = await stub.GetContact(
        social_service_pb2.GetContactRequest(contact_id=contact_id), metadata=shop.owner
    )
    assert contact.contact.platform_display_name == "After"
    assert (
        await count(
            engine,
            "SELECT count(*) FROM contact_syncs WHERE integration_id = :i",
            i=shop.integration_id,
        )
        == 1
    )


async def test_every_rpc_is_scoped_to_its_owner(
    stub: Stub, telegram: TelegramStandIn, new_owner: NewOwner
) -> None:
    shop = await open_shop(stub, telegram, await new_owner())
    chat = next(_chats)
    await write_in(stub, shop, chat_id=chat, first_name="Private")
    contact_id = await contact_id_of(stub, shop, chat)
    history = await stub.ListMessages(
        social_service_pb2.ListMessagesRequest(contact_id=contact_id), metadata=shop.owner
    )
    message_id = history.messages[0].id
    stranger = await new_owner()
    mask = field_mask_pb2.FieldMask
    not_found_calls = [
        stub.GetIntegration(
            social_service_pb2.GetIntegrationRequest(integration_id=shop.integration_id),
            metadata=stranger,
        ),
        stub.UpdateIntegration(
            social_service_pb2.UpdateIntegrationRequest(
                integration_id=shop.integration_id,
                integration=integration_pb2.Integration(display_name="mine"),
                update_mask=mask(paths=["display_name"]),
            ),
            metadata=stranger,
        ),
        stub.DeleteIntegration(
            social_service_pb2.DeleteIntegrationRequest(integration_id=shop.integration_id),
            metadata=stranger,
        ),
        stub.SyncContacts(
            social_service_pb2.SyncContactsRequest(integration_id=shop.integration_id),
            metadata=stranger,
        ),
        stub.GetContact(
            social_service_pb2.GetContactRequest(contact_id=contact_id), metadata=stranger
        ),
        stub.UpdateContact(
            social_service_pb2.UpdateContactRequest(
                contact_id=contact_id,
                contact=contact_pb2.Contact(agent_access=contact_pb2.AGENT_ACCESS_DENIED),
                update_mask=mask(paths=["agent_access"]),
            ),
            metadata=stranger,
        ),
        stub.ResumeAgent(
            social_service_pb2.ResumeAgentRequest(contact_id=contact_id), metadata=stranger
        ),
        stub.ListMessages(
            social_service_pb2.ListMessagesRequest(contact_id=contact_id), metadata=stranger
        ),
        stub.GetMessage(
            social_service_pb2.GetMessageRequest(message_id=message_id), metadata=stranger
        ),
        stub.SendMessage(
            social_service_pb2.SendMessageRequest(
                contact_id=contact_id, request_id=str(uuid.uuid4()), text="hijack"
            ),
            metadata=stranger,
        ),
        stub.GetConversationContext(
            social_service_pb2.GetConversationContextRequest(contact_id=contact_id),
            metadata=stranger,
        ),
        stub.StartIntegrationOAuth(
            social_service_pb2.StartIntegrationOAuthRequest(
                platform="x", integration_id=shop.integration_id
            ),
            metadata=stranger,
        ),
    ]
    for pending in not_found_calls:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await pending
        assert error.value.code() == grpc.StatusCode.NOT_FOUND, error.value.details()
    assert await _list(stub, stranger) == []
    assert await _list(stub, stranger, integration_id=shop.integration_id) == []
    batch = await stub.BatchGetContacts(
        social_service_pb2.BatchGetContactsRequest(contact_ids=[contact_id]), metadata=stranger
    )
    assert list(batch.contacts) == []
    listed = await stub.ListIntegrations(
        social_service_pb2.ListIntegrationsRequest(), metadata=stranger
    )
    assert list(listed.integrations) == []
    # Nothing of the stranger's calls changed the owner's data or reached the contact.
    contact = await stub.GetContact(
        social_service_pb2.GetContactRequest(contact_id=contact_id), metadata=shop.owner
    )
    assert contact.contact.agent_access == contact_pb2.AGENT_ACCESS_INHERIT
    assert not contact.contact.agent_paused
    assert telegram.sent_messages(chat) == []
    assert telegram.webhook(shop.token) is not None


async def test_calls_without_an_owner_are_unauthenticated(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListContacts(social_service_pb2.ListContactsRequest())
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_reconnecting_an_unknown_integration_is_not_found(
    stub: Stub, new_owner: NewOwner
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ReconnectIntegration(
            social_service_pb2.ReconnectIntegrationRequest(integration_id=str(uuid.uuid4())),
            metadata=await new_owner(),
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND

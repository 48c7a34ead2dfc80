"""social end to end in-process: a real gRPC server on real Postgres and NATS (the `infra`
fixture), talking to the Telegram Bot API stand-in. No Envoy: webhooks are called as the edge
calls them, with the secret header as lower-cased gRPC metadata."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.api import httpbody_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.events.v1 import llm_events_pb2, social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2, social_service_pb2_grpc
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.events import deterministic_id, new_event
from services.kit.server import ServerHandle, create_server
from services.social.server import SERVICE_NAME, wire
from services.social.settings import SocialSettings
from services.stack import Stack
from tests.social.samples import telegram_update
from tests.standins.telegram import BLOCKED, TelegramStandIn

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "social" / "migrations"
PUBLIC_URL = "https://edge.test"
SECRET_METADATA = "x-telegram-bot-api-secret-token"

Stub = social_service_pb2_grpc.SocialServiceStub


@pytest.fixture(scope="module")
def standin() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as telegram:
        yield telegram


@pytest.fixture(scope="module")
async def engine(infra: Stack) -> AsyncIterator[AsyncEngine]:
    await upgrade_to_head_async(infra.database_url("social"), MIGRATIONS)
    engine = create_engine(infra.database_url("social"), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def server(
    infra: Stack, engine: AsyncEngine, standin: TelegramStandIn
) -> AsyncIterator[ServerHandle]:
    settings = SocialSettings(
        database_url=infra.database_url("social"),
        redis_url=infra.redis_url,
        nats_url=infra.nats_url,
        public_base_url=PUBLIC_URL,
        token_encryption_keys=SecretStr("k1:" + "A" * 43),
        telegram_api_base=standin.base_url,
        max_inline_retry_seconds=2.0,
    )
    handle = await create_server(
        settings, service_names=[SERVICE_NAME], error_domain="social.inbetwin.app", wire=wire
    )
    yield handle
    await handle.stop(0)


@pytest.fixture(scope="module")
async def stub(server: ServerHandle) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield social_service_pb2_grpc.SocialServiceStub(channel)


@pytest.fixture(scope="module")
async def bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name="social-tests")
    yield bus
    await bus.close()


def _owner() -> tuple[tuple[str, str]]:
    return (("x-user-id", str(uuid.uuid4())),)


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


async def _connect(
    stub: Stub, standin: TelegramStandIn, owner: tuple[tuple[str, str]], **fields: Any
) -> tuple[str, integration_pb2.Integration]:
    token = standin.add_bot(username="shop_bot", first_name="Shop")
    response = await stub.ConnectIntegration(
        social_service_pb2.ConnectIntegrationRequest(
            request_id=str(uuid.uuid4()), telegram={"bot_token": token}, **fields
        ),
        metadata=owner,
    )
    return token, response.integration


async def _webhook(
    stub: Stub, integration_id: str, body: bytes, *, secret: str | None, platform: str = "telegram"
) -> social_service_pb2.HandleWebhookResponse:
    metadata = ((SECRET_METADATA, secret),) if secret is not None else ()
    response: social_service_pb2.HandleWebhookResponse = await stub.HandleWebhook(
        social_service_pb2.HandleWebhookRequest(
            platform=platform,
            integration_id=integration_id,
            body=httpbody_pb2.HttpBody(content_type="application/json", data=body),
        ),
        metadata=metadata,
    )
    return response


def _secret(standin: TelegramStandIn, token: str) -> str:
    hook = standin.webhook(token)
    assert hook is not None
    return hook.secret_token


async def _count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.text(sql), params)).scalar_one())


async def _rows(engine: AsyncEngine, table: str, integration_id: str) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(sa.table(table))
        .where(sa.column("integration_id") == sa.literal(integration_id, sa.Uuid(as_uuid=False)))
    )
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_connect_checks_the_token_registers_the_webhook_and_stores_it_encrypted(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    owner = _owner()
    token, integration = await _connect(stub, standin, owner, display_name="My shop")
    assert integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    assert integration.platform == integration_pb2.PLATFORM_TELEGRAM
    assert integration.platform_account_id == token.split(":")[0]
    assert integration.platform_username == "shop_bot"
    assert integration.display_name == "My shop"
    assert integration.webhook_url == f"{PUBLIC_URL}/webhooks/telegram/{integration.id}"
    assert token.encode() not in integration.SerializeToString()

    hook = standin.webhook(token)
    assert hook is not None
    assert hook.url == integration.webhook_url
    assert 1 <= len(hook.secret_token) <= 256

    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT credentials_encrypted, webhook_secret_encrypted, credentials_key_id"
                    " FROM integrations WHERE id = :id"
                ),
                {"id": integration.id},
            )
        ).one()
    assert token.encode() not in row.credentials_encrypted
    assert hook.secret_token.encode() not in row.webhook_secret_encrypted
    assert row.credentials_key_id == "k1"
    assert (
        await _count(
            engine,
            "SELECT count(*) FROM outbox WHERE event_type = :t AND payload LIKE :p",
            t=social_events_pb2.IntegrationConnected.DESCRIPTOR.full_name,
            p=b"%" + integration.id.encode() + b"%",
        )
        == 1
    )


async def test_connect_is_idempotent_per_request_and_a_bot_connects_once(
    stub: Stub, standin: TelegramStandIn
) -> None:
    owner = _owner()
    token = standin.add_bot()
    request = social_service_pb2.ConnectIntegrationRequest(
        request_id=str(uuid.uuid4()), telegram={"bot_token": token}
    )
    first = await stub.ConnectIntegration(request, metadata=owner)
    again = await stub.ConnectIntegration(request, metadata=owner)
    assert again.integration.id == first.integration.id
    assert len(standin.calls("setWebhook")) >= 1
    set_calls = len(standin.calls("setWebhook"))

    request.request_id = str(uuid.uuid4())
    for metadata in (owner, _owner()):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.ConnectIntegration(request, metadata=metadata)
        assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert _reason(error.value) == "INTEGRATION_ALREADY_CONNECTED"
    assert len(standin.calls("setWebhook")) == set_calls


async def test_connect_with_a_rejected_token_stores_nothing(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    token = standin.add_bot()
    standin.revoke(token)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), telegram={"bot_token": token}
            ),
            metadata=_owner(),
        )
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _reason(error.value) == "PLATFORM_REJECTED_CREDENTIALS"
    assert token not in (error.value.details() or "")
    bot_id = token.split(":")[0]
    assert (
        await _count(
            engine, "SELECT count(*) FROM integrations WHERE platform_account_id = :a", a=bot_id
        )
        == 0
    )


async def test_other_platforms_are_not_connectable_yet(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), max={"bot_token": "abc"}
            ),
            metadata=_owner(),
        )
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _reason(error.value) == "UNSUPPORTED_PLATFORM"


async def test_integrations_are_owner_scoped(stub: Stub, standin: TelegramStandIn) -> None:
    owner, stranger = _owner(), _owner()
    _, integration = await _connect(stub, standin, owner)
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration.id), metadata=owner
    )
    assert got.integration == integration
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetIntegration(
            social_service_pb2.GetIntegrationRequest(integration_id=integration.id),
            metadata=stranger,
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert _reason(error.value) == "INTEGRATION_NOT_FOUND"
    listed = await stub.ListIntegrations(
        social_service_pb2.ListIntegrationsRequest(), metadata=owner
    )
    assert [i.id for i in listed.integrations] == [integration.id]
    empty = await stub.ListIntegrations(
        social_service_pb2.ListIntegrationsRequest(), metadata=stranger
    )
    assert list(empty.integrations) == []


async def test_list_integrations_pages(stub: Stub, standin: TelegramStandIn) -> None:
    owner = _owner()
    ids = [(await _connect(stub, standin, owner))[1].id for _ in range(3)]
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
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListIntegrations(
            social_service_pb2.ListIntegrationsRequest(page_token="garbage"), metadata=owner
        )
    assert _reason(error.value) == "PAGE_TOKEN_INVALID"


async def test_a_webhook_update_is_stored_once_under_redelivery(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    secret = _secret(standin, token)
    body = json.dumps(telegram_update("telegram_text_private.json", update_id=424242)).encode()

    response = await _webhook(stub, integration.id, body, secret=secret)
    assert response.body.data == b""
    # Telegram redelivers when it missed our answer; concurrent copies must collapse too.
    await asyncio.gather(*(_webhook(stub, integration.id, body, secret=secret) for _ in range(5)))

    assert await _rows(engine, "webhook_updates", integration.id) == 1
    assert await _rows(engine, "messages", integration.id) == 1
    assert await _rows(engine, "contacts", integration.id) == 1
    event_id = deterministic_id(integration.id, "424242")
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.text("SELECT event_type, payload FROM outbox WHERE event_id = :e"),
                {"e": event_id},
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].event_type == social_events_pb2.MessageReceived.DESCRIPTOR.full_name
    event = social_events_pb2.MessageReceived.FromString(rows[0].payload)
    assert event.message.text == "/start"
    assert event.contact.platform_user_id == "1111111"
    assert event.contact.display_name == "Test Firstname Test Lastname"
    assert event.agent_may_reply
    assert event.stale  # the sample was written in 2015
    await _eventually(
        lambda: _published(engine, event_id),
    )


async def _published(engine: AsyncEngine, event_id: str) -> bool:
    count = await _count(
        engine,
        "SELECT count(*) FROM outbox WHERE event_id = :e AND published_at IS NOT NULL",
        e=event_id,
    )
    return count == 1


async def test_an_edit_updates_the_stored_message_in_place(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    secret = _secret(standin, token)
    original = telegram_update("telegram_text_private.json", update_id=1)
    edit = telegram_update("telegram_edited_message.json", update_id=2)
    for update in (original, edit):
        await _webhook(stub, integration.id, json.dumps(update).encode(), secret=secret)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.text("SELECT text, edited FROM messages WHERE integration_id = :i"),
                {"i": integration.id},
            )
        ).all()
    assert [(r.text, r.edited) for r in rows] == [("Edited text", True)]


@pytest.mark.parametrize("secret", ["wrong", "", None], ids=["forged", "empty", "missing"])
async def test_a_wrong_or_missing_secret_is_unauthenticated_and_stores_nothing(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, secret: str | None
) -> None:
    _, integration = await _connect(stub, standin, _owner())
    body = json.dumps(telegram_update("telegram_text_private.json")).encode()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _webhook(stub, integration.id, body, secret=secret)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _reason(error.value) == "WEBHOOK_SIGNATURE_INVALID"
    assert await _rows(engine, "webhook_updates", integration.id) == 0
    assert await _rows(engine, "contacts", integration.id) == 0


async def test_unknown_integration_or_platform_is_not_found(
    stub: Stub, standin: TelegramStandIn
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    body = json.dumps(telegram_update("telegram_text_private.json")).encode()
    for integration_id, platform in ((str(uuid.uuid4()), "telegram"), (integration.id, "vk")):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await _webhook(
                stub, integration_id, body, secret=_secret(standin, token), platform=platform
            )
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert _reason(error.value) == "INTEGRATION_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1,2]", b'{"update_id":"x"}', b" " * (1024 * 1024 + 1)],
    ids=["malformed", "array", "wrong-type", "oversized"],
)
async def test_bad_bodies_are_invalid_argument_not_internal(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, body: bytes
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _webhook(stub, integration.id, body, secret=_secret(standin, token))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _reason(error.value) == "WEBHOOK_PAYLOAD_INVALID"
    assert (
        await _count(
            engine,
            "SELECT count(*) FROM webhook_updates WHERE integration_id = :i",
            i=integration.id,
        )
        == 0
    )


async def test_ignored_updates_are_stored_raw_and_acknowledged(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    body = json.dumps(telegram_update("telegram_callback_query.json")).encode()
    await _webhook(stub, integration.id, body, secret=_secret(standin, token))
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT body, outcome FROM webhook_updates WHERE integration_id = :i"),
                {"i": integration.id},
            )
        ).one()
    assert row.body == body
    assert row.outcome.startswith("ignored")
    assert await _rows(engine, "messages", integration.id) == 0


async def test_a_contact_who_blocks_the_bot_becomes_unreachable(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine
) -> None:
    token, integration = await _connect(stub, standin, _owner())
    secret = _secret(standin, token)
    message = telegram_update("telegram_text_private.json", update_id=10)
    message["message"]["chat"]["id"] = message["message"]["from"]["id"] = 0
    blocked = telegram_update("telegram_my_chat_member_blocked.json", update_id=11)
    for update in (message, blocked):
        await _webhook(stub, integration.id, json.dumps(update).encode(), secret=secret)
    async with engine.connect() as connection:
        reachable = (
            await connection.execute(
                sa.text("SELECT reachable FROM contacts WHERE integration_id = :i"),
                {"i": integration.id},
            )
        ).scalar_one()
    assert reachable is False
    assert await _rows(engine, "messages", integration.id) == 1


async def _inbound_conversation(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, *, chat_id: int
) -> tuple[str, str, str, str]:
    """Connect a bot and receive one message: (token, owner_id, integration_id, contact_id)."""
    owner = _owner()
    token, integration = await _connect(stub, standin, owner)
    update = telegram_update("telegram_text_private_real.json")
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    await _webhook(
        stub, integration.id, json.dumps(update).encode(), secret=_secret(standin, token)
    )
    async with engine.connect() as connection:
        contact_id = (
            await connection.execute(
                sa.text("SELECT id FROM contacts WHERE integration_id = :i"), {"i": integration.id}
            )
        ).scalar_one()
    return token, owner[0][1], integration.id, str(contact_id)


def _reply(
    owner_id: str, integration_id: str, contact_id: str, text: str, reply_id: str
) -> llm_events_pb2.ReplyRequested:
    return new_event(
        llm_events_pb2.ReplyRequested,
        owner_id=owner_id,
        event_id=reply_id,
        reply_id=reply_id,
        integration_id=integration_id,
        contact_id=contact_id,
        text=text,
    )


async def _publish_twice(bus: EventBus, reply: llm_events_pb2.ReplyRequested) -> None:
    await bus.publish(reply)
    # A second copy under another message id: JetStream's de-duplication does not catch it, so
    # only the consumer's own idempotency keeps it from being sent again.
    await bus.publish_raw(
        "inbetwin.llm.reply.requested",
        reply.SerializeToString(),
        event_id=str(uuid.uuid4()),
        event_type=reply.DESCRIPTOR.full_name,
    )


async def test_a_reply_command_processed_twice_sends_once(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, bus: EventBus
) -> None:
    chat_id = 900001
    _, owner_id, integration_id, contact_id = await _inbound_conversation(
        stub, standin, engine, chat_id=chat_id
    )
    reply_id = str(uuid.uuid4())
    await _publish_twice(bus, _reply(owner_id, integration_id, contact_id, "Hi there!", reply_id))

    async def sent() -> bool:
        return len(standin.sent_messages(chat_id)) >= 1

    await _eventually(sent)
    await _eventually(lambda: _reply_status(engine, reply_id, "sent"))
    await asyncio.sleep(0.5)  # let the second copy be processed
    assert [m.text for m in standin.sent_messages(chat_id)] == ["Hi there!"]
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text("SELECT id, platform_message_id FROM messages WHERE reply_id = :r"),
                {"r": reply_id},
            )
        ).one()
    assert row.platform_message_id == str(standin.sent_messages(chat_id)[0].message_id)
    assert (
        await _count(
            engine,
            "SELECT count(*) FROM outbox WHERE event_id = :e",
            e=deterministic_id("social.message.sent", str(row.id)),
        )
        == 1
    )


async def _reply_status(engine: AsyncEngine, reply_id: str, status: str) -> bool:
    count = await _count(
        engine,
        "SELECT count(*) FROM messages WHERE reply_id = :r AND status = :s",
        r=reply_id,
        s=status,
    )
    return count >= 1


async def test_a_429_is_waited_out_and_the_reply_sent_once(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, bus: EventBus
) -> None:
    chat_id = 900002
    _, owner_id, integration_id, contact_id = await _inbound_conversation(
        stub, standin, engine, chat_id=chat_id
    )
    standin.fail_next("sendMessage", error_code=429, retry_after=1)
    reply_id = str(uuid.uuid4())
    await bus.publish(_reply(owner_id, integration_id, contact_id, "after the wait", reply_id))
    await _eventually(lambda: _reply_status(engine, reply_id, "sent"))
    assert [m.text for m in standin.sent_messages(chat_id)] == ["after the wait"]


async def test_a_blocked_contact_is_marked_unreachable_and_the_failure_published(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, bus: EventBus
) -> None:
    chat_id = 900003
    token, owner_id, integration_id, contact_id = await _inbound_conversation(
        stub, standin, engine, chat_id=chat_id
    )
    standin.block_chat(token, chat_id)
    reply_id = str(uuid.uuid4())
    await _publish_twice(bus, _reply(owner_id, integration_id, contact_id, "hello?", reply_id))
    await _eventually(lambda: _reply_status(engine, reply_id, "failed"))
    assert standin.sent_messages(chat_id) == []
    async with engine.connect() as connection:
        contact = (
            await connection.execute(
                sa.text("SELECT reachable FROM contacts WHERE id = :c"), {"c": contact_id}
            )
        ).one()
        message = (
            await connection.execute(
                sa.text("SELECT id, error_message FROM messages WHERE reply_id = :r"),
                {"r": reply_id},
            )
        ).one()
    assert contact.reachable is False
    assert message.error_message == BLOCKED
    failed_event = deterministic_id("social.message.send_failed", str(message.id))
    async with engine.connect() as connection:
        payload = (
            await connection.execute(
                sa.text("SELECT payload FROM outbox WHERE event_id = :e"), {"e": failed_event}
            )
        ).scalar_one()
    event = social_events_pb2.MessageSendFailed.FromString(payload)
    assert event.permanent
    assert event.reply_id == reply_id
    assert event.error_message == BLOCKED
    await asyncio.sleep(0.5)
    assert len([c for c in standin.calls("sendMessage") if c.params.get("chat_id") == chat_id]) == 1


async def test_contacts_not_allowed_are_stored_but_not_handed_to_the_agent(
    stub: Stub, standin: TelegramStandIn, engine: AsyncEngine, bus: EventBus
) -> None:
    owner = _owner()
    token, integration = await _connect(
        stub, standin, owner, default_contact_policy=integration_pb2.CONTACT_POLICY_DENY_ALL
    )
    chat_id = 900004
    update = telegram_update("telegram_text_private_real.json", update_id=77)
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    await _webhook(
        stub, integration.id, json.dumps(update).encode(), secret=_secret(standin, token)
    )
    async with engine.connect() as connection:
        payload = (
            await connection.execute(
                sa.text("SELECT payload FROM outbox WHERE event_id = :e"),
                {"e": deterministic_id(integration.id, "77")},
            )
        ).scalar_one()
        contact_id = (
            await connection.execute(
                sa.text("SELECT id FROM contacts WHERE integration_id = :i"), {"i": integration.id}
            )
        ).scalar_one()
    event = social_events_pb2.MessageReceived.FromString(payload)
    assert event.message.text == "4"
    assert not event.contact.agent_allowed
    assert not event.agent_may_reply

    # A reply that was already on its way is dropped, not sent.
    reply_id = str(uuid.uuid4())
    await bus.publish(_reply(owner[0][1], integration.id, str(contact_id), "no", reply_id))
    await asyncio.sleep(1.0)
    assert standin.sent_messages(chat_id) == []
    assert (
        await _count(engine, "SELECT count(*) FROM messages WHERE reply_id = :r", r=reply_id) == 0
    )


async def test_rpcs_of_later_slices_answer_unimplemented(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListContacts(social_service_pb2.ListContactsRequest(), metadata=_owner())
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED

"""The webhook hot path's single statement: atomic with the caller's transaction, owner-scoped."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import grpc
import pytest
from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event_on_asyncpg
from services.social import inbound_store, repository
from services.social.credentials import seal_token, seal_webhook_secret
from services.social.crypto import TokenCipher
from services.social.inbound import WebhookReceiver
from services.social.platforms.telegram import TelegramAdapter, TelegramClient
from services.social.platforms.types import AttachmentMeta, InboundMessage, Profile
from services.stack import Stack
from tests.social.samples import telegram_update
from tests.social.support import ENCRYPTION_KEYS, count, rows


async def _integration(engine: AsyncEngine) -> tuple[str, str]:
    owner, integration_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with engine.begin() as connection:
        await repository.insert_integration(
            connection,
            integration_id=integration_id,
            owner_id=owner,
            platform="telegram",
            display_name="t",
            status="active",
            delivery_mode="webhook",
            platform_account_id=str(uuid.uuid4().int % 10**12),
            platform_username="",
            credentials_encrypted=b"x",
            credentials_key_id="k1",
            webhook_secret_encrypted=None,
            webhook_secret_key_id=None,
            default_contact_policy="deny_all",
            request_id=None,
        )
    return owner, integration_id


def _message(key: str, text: str = "hi") -> InboundMessage:
    return InboundMessage(
        dedup_key=key,
        chat_id="42",
        platform_message_id=key,
        sender=Profile(platform_user_id="42", display_name="Ann", username="ann"),
        text=text,
        sent_at=datetime.now(UTC),
    )


async def _store(engine: AsyncEngine, owner: str, integration_id: str, key: str) -> object:
    async with engine.begin() as connection:
        return await inbound_store.store_inbound(
            connection,
            owner_id=owner,
            integration_id=integration_id,
            dedup_key=key,
            body=b"{}",
            content_type="application/json",
            inbound=_message(key),
        )


async def test_it_is_part_of_the_callers_transaction(engine: AsyncEngine) -> None:
    owner, integration_id = await _integration(engine)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        # The first statement of the transaction: nothing ran through SQLAlchemy before it.
        await inbound_store.store_inbound(
            connection,
            owner_id=owner,
            integration_id=integration_id,
            dedup_key="1",
            body=b"{}",
            content_type="application/json",
            inbound=_message("1"),
        )
        await transaction.rollback()
    sql = "SELECT count(*) FROM {} WHERE integration_id = :i"
    for table in ("webhook_updates", "contacts", "messages"):
        assert await count(engine, sql.format(table), i=integration_id) == 0


async def test_a_redelivery_is_a_duplicate_and_the_policy_comes_back(engine: AsyncEngine) -> None:
    owner, integration_id = await _integration(engine)
    stored = await _store(engine, owner, integration_id, "7")
    assert isinstance(stored, inbound_store.Stored)
    assert stored.message is not None
    assert stored.message.text == "hi"
    assert stored.contact.platform_display_name == "Ann"
    assert stored.default_contact_policy == "deny_all"
    assert await _store(engine, owner, integration_id, "7") is inbound_store.DUPLICATE


async def test_a_deleted_integration_is_reported_as_gone(engine: AsyncEngine) -> None:
    with pytest.raises(inbound_store.IntegrationGoneError):
        await _store(engine, str(uuid.uuid4()), str(uuid.uuid4()), "1")


# ---- the same statement on a plain asyncpg connection (the webhook path) ---------------------


@pytest.fixture
async def raw(auth_stack: Stack, engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    url = make_url(auth_stack.database_url("social")).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    yield connection
    await connection.close()


async def _store_raw(
    raw: asyncpg.Connection, owner: str, integration_id: str, inbound: InboundMessage
) -> object:
    async with raw.transaction():
        return await inbound_store.store_inbound_raw(
            raw,
            owner_id=owner,
            integration_id=integration_id,
            dedup_key=inbound.dedup_key,
            body=b"{}",
            content_type="application/json",
            inbound=inbound,
        )


async def test_raw_stores_the_same_rows_and_spots_the_redelivery(
    engine: AsyncEngine, raw: asyncpg.Connection
) -> None:
    owner, integration_id = await _integration(engine)
    photo = AttachmentMeta(
        kind="photo", platform_type="photo", platform_file_id="f1", mime_type="image/jpeg"
    )
    inbound = InboundMessage(
        dedup_key="9",
        chat_id="42",
        platform_message_id="9",
        sender=Profile(platform_user_id="42", display_name="Ann", username="ann"),
        text="look",
        sent_at=datetime.now(UTC),
        attachments=(photo,),
    )
    stored = await _store_raw(raw, owner, integration_id, inbound)
    assert isinstance(stored, inbound_store.Stored)
    assert stored.message is not None
    assert stored.message.attachments == [asdict(photo)]
    assert stored.message.owner_id == owner
    assert stored.contact.id == stored.message.contact_id
    assert stored.default_contact_policy == "deny_all"
    assert await _store_raw(raw, owner, integration_id, inbound) is inbound_store.DUPLICATE
    # The SQLAlchemy path reads back exactly what the raw path wrote.
    assert await _store(engine, owner, integration_id, "9") is inbound_store.DUPLICATE


async def test_raw_is_part_of_the_connections_transaction(
    engine: AsyncEngine, raw: asyncpg.Connection
) -> None:
    owner, integration_id = await _integration(engine)
    event = new_event(social_events_pb2.MessageReceived, owner_id=owner)
    transaction = raw.transaction()
    await transaction.start()
    await inbound_store.store_inbound_raw(
        raw,
        owner_id=owner,
        integration_id=integration_id,
        dedup_key="1",
        body=b"{}",
        content_type="application/json",
        inbound=_message("1"),
    )
    await add_event_on_asyncpg(raw, event)
    await transaction.rollback()
    sql = "SELECT count(*) FROM {} WHERE integration_id = :i"
    for table in ("webhook_updates", "contacts", "messages"):
        assert await count(engine, sql.format(table), i=integration_id) == 0
    assert (
        await count(engine, "SELECT count(*) FROM outbox WHERE event_id = :e", e=event.event_id)
        == 0
    )


async def test_raw_outbox_rows_are_the_kits_and_written_once(
    engine: AsyncEngine, raw: asyncpg.Connection
) -> None:
    event = new_event(social_events_pb2.MessageReceived, owner_id=str(uuid.uuid4()))
    for _ in range(2):
        async with raw.transaction():
            await add_event_on_asyncpg(raw, event)
    found = await rows(
        engine,
        "SELECT subject, event_type, payload FROM outbox WHERE event_id = :e",
        e=event.event_id,
    )
    assert len(found) == 1
    subject, event_type, payload = found[0]
    assert subject == "inbetwin.social.message.received"
    assert event_type == "inbetwin.events.v1.MessageReceived"
    assert social_events_pb2.MessageReceived.FromString(payload) == event


async def test_raw_reports_a_deleted_integration_as_gone(raw: asyncpg.Connection) -> None:
    with pytest.raises(inbound_store.IntegrationGoneError):
        await _store_raw(raw, str(uuid.uuid4()), str(uuid.uuid4()), _message("1"))


async def test_a_webhook_the_database_cannot_take_is_unavailable(engine: AsyncEngine) -> None:
    """The message pool cannot reach Postgres: UNAVAILABLE, so the platform delivers again."""
    cipher = TokenCipher.from_spec(ENCRYPTION_KEYS)
    owner, integration_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with engine.begin() as connection:
        await repository.insert_integration(
            connection,
            integration_id=integration_id,
            owner_id=owner,
            platform="telegram",
            display_name="t",
            status="active",
            delivery_mode="webhook",
            platform_account_id=str(uuid.uuid4().int % 10**12),
            platform_username="",
            credentials_encrypted=seal_token(cipher, integration_id=integration_id, token="1:x"),
            credentials_key_id="k1",
            webhook_secret_encrypted=seal_webhook_secret(
                cipher, integration_id=integration_id, secret="s3cret"
            ),
            webhook_secret_key_id="k1",
            default_contact_policy="allow_all",
            request_id=None,
        )
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{port}/none", min_size=0)
    receiver = WebhookReceiver(
        engine=engine,
        relay=cast(OutboxRelay, _QuietRelay()),
        cipher=cipher,
        adapters={"telegram": TelegramAdapter(cast(TelegramClient, None))},
        pool=pool,
        app_webhooks={},
        max_body_bytes=1 << 20,
        stale_after=timedelta(hours=1),
        public_base_url="https://edge.test",
    )
    update = telegram_update("telegram_text_private_real.json")
    try:
        with pytest.raises(ServiceError) as error:
            await receiver.receive(
                platform="telegram",
                integration_id=integration_id,
                headers={"x-telegram-bot-api-secret-token": "s3cret"},
                body=json.dumps(update).encode(),
                content_type="application/json",
            )
    finally:
        await pool.close()
    assert error.value.code == grpc.StatusCode.UNAVAILABLE
    assert (
        await count(
            engine,
            "SELECT count(*) FROM webhook_updates WHERE integration_id = :i",
            i=integration_id,
        )
        == 0
    )


class _QuietRelay:
    def notify(self) -> None:
        pass

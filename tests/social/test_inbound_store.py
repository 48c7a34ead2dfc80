"""The webhook hot path's single statement: atomic with the caller's transaction, owner-scoped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.social import inbound_store, repository
from services.social.platforms.types import InboundMessage, Profile
from tests.social.support import count


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

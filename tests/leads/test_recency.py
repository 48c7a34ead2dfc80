"""Recency decay: time alone lowers a silent lead's engagement, and the sweeper announces it.

The sweeper is driven with a clock set days ahead, so it runs against a database of its own (a
clock in the future would otherwise decay every other test's leads). Events go straight to the
consumers' handlers, the functions the bus calls; the bus path itself is covered elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import sqlalchemy as sa
from inbetwin.events.v1 import agent_events_pb2, llm_events_pb2, social_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.outbox import OutboxRelay
from services.leads.features import FeatureSet
from services.leads.ingest import SignalIngest
from services.leads.recency import RecencySweeper
from services.stack import Stack
from tests.leads.conftest import MIGRATIONS
from tests.leads.conversations import Conversation, warm_en


@pytest.fixture(scope="module")
async def own_engine(infra: Stack) -> AsyncIterator[AsyncEngine]:
    name = f"leads_recency_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.postgres_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = infra.database_url("leads").rsplit("/", 1)[0] + f"/{name}"
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url, pool_size=2)
    yield engine
    await engine.dispose()


async def feed(ingest: SignalIngest, conversation: Conversation) -> None:
    for event in conversation.events:
        if isinstance(event, social_events_pb2.MessageReceived):
            await ingest.on_message_received(event)
        elif isinstance(event, social_events_pb2.MessageSent):
            await ingest.on_message_sent(event)
        elif isinstance(event, llm_events_pb2.InboundAssessed):
            await ingest.on_inbound_assessed(event)
        elif isinstance(event, agent_events_pb2.UserInfoSaved):
            await ingest.on_user_info_saved(event)


async def lead_row(engine: AsyncEngine, owner_id: str) -> sa.Row[object]:
    async with engine.connect() as conn:
        return (
            await conn.execute(sa.text("SELECT * FROM leads WHERE owner_id = :o"), {"o": owner_id})
        ).one()


async def history(engine: AsyncEngine, lead_id: str) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT score, cause FROM lead_score_history WHERE lead_id = :l ORDER BY id"),
            {"l": lead_id},
        )
        return [(row.score, row.cause) for row in rows]


async def test_silence_decays_the_score_when_it_is_due(
    own_engine: AsyncEngine, bus: EventBus
) -> None:
    relay = OutboxRelay(own_engine, bus)
    now = datetime.now(UTC)
    ingest = SignalIngest(own_engine, relay, clock=lambda: now)
    conversation = warm_en(Conversation())
    await feed(ingest, conversation)
    fresh = await lead_row(own_engine, conversation.owner_id)
    assert fresh.recency_check_at is not None
    assert fresh.recency_check_at > now
    engagement = FeatureSet.from_json(fresh.features).features[0]
    assert engagement.summary.endswith("last active today")

    clock = now
    sweeper = RecencySweeper(own_engine, relay, interval=60, clock=lambda: clock)
    assert await sweeper.sweep() == 0  # nothing is due yet

    clock = now + timedelta(days=12)
    assert await sweeper.sweep() == 1
    stale = await lead_row(own_engine, conversation.owner_id)
    engagement = FeatureSet.from_json(stale.features).features[0]
    assert engagement.summary.endswith("last active 12 days ago")
    assert stale.score < fresh.score
    assert stale.last_cause == "recency"
    assert (await history(own_engine, stale.id))[-1] == (stale.score, "recency")
    assert stale.recency_check_at > clock
    assert await sweeper.sweep() == 0  # done until the next day boundary

    clock = now + timedelta(days=60)
    assert await sweeper.sweep() == 1
    gone_quiet = await lead_row(own_engine, conversation.owner_id)
    assert gone_quiet.recency_check_at is None  # the floor is reached: no more decay
    assert gone_quiet.score < stale.score
    async with own_engine.connect() as conn:
        announced = await conn.execute(
            sa.text("SELECT count(*) FROM outbox WHERE subject = 'inbetwin.leads.lead.updated'")
        )
        assert announced.scalar_one() >= 3


async def test_a_conversation_weeks_old_arrives_already_decayed(
    own_engine: AsyncEngine, bus: EventBus
) -> None:
    relay = OutboxRelay(own_engine, bus)
    ingest = SignalIngest(own_engine, relay)
    recent, old = Conversation(), Conversation(clock=datetime.now(UTC) - timedelta(days=20))
    await feed(ingest, warm_en(recent))
    await feed(ingest, warm_en(old))
    assert (await lead_row(own_engine, old.owner_id)).score < (
        await lead_row(own_engine, recent.owner_id)
    ).score

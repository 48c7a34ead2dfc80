"""The event bus and the outbox against real NATS JetStream and Postgres."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from inbetwin.events.v1 import auth_events_pb2
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.kit.bus import (
    DEAD_LETTER_STREAM,
    EVENTS_STREAM,
    ConsumerSpec,
    EventBus,
    RetryLaterError,
)
from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event, claim_event
from services.stack import Stack

# Any service's migrations create the outbox and inbox tables; leads has nothing else yet.
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "leads" / "migrations"


@pytest.fixture
async def bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name=f"test-{uuid.uuid4().hex[:6]}")
    yield bus
    await bus.close()


@pytest.fixture(scope="module")
async def database(infra: Stack) -> str:
    name = f"kit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.postgres_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = infra.database_url("leads").rsplit("/", 1)[0] + f"/{name}"
    await upgrade_to_head_async(url, MIGRATIONS)
    return url


def _registered(owner: str | None = None) -> auth_events_pb2.UserRegistered:
    return new_event(
        auth_events_pb2.UserRegistered, owner_id=owner or str(uuid.uuid4()), email="a@b.c"
    )


async def _collect(
    bus: EventBus, durable: str, want: Callable[[list[str]], bool], wait_seconds: float = 15.0
) -> list[str]:
    seen: list[str] = []
    done = asyncio.Event()

    async def handle(event: auth_events_pb2.UserRegistered) -> None:
        seen.append(event.owner_id)
        if want(seen):
            done.set()

    bus.consume(
        ConsumerSpec(durable=durable, subjects=["inbetwin.auth.user.registered"]),
        auth_events_pb2.UserRegistered,
        handle,
    )
    await asyncio.wait_for(done.wait(), wait_seconds)
    return seen


async def test_publish_is_deduplicated_by_event_id(bus: EventBus) -> None:
    event = _registered()
    for _ in range(3):
        await bus.publish(event)
    info = await bus.jetstream.stream_info(EVENTS_STREAM)
    sub = await bus.jetstream.pull_subscribe(
        "inbetwin.auth.user.registered",
        stream=EVENTS_STREAM,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    messages: list[Any] = []
    while True:
        try:
            batch = await sub.fetch(100, timeout=1)
        except Exception:
            break
        messages.extend(m for m in batch if m.data == event.SerializeToString())
    await sub.unsubscribe()
    assert info.state.messages >= 1
    assert len(messages) == 1


async def test_failing_handler_is_retried_then_dead_lettered(bus: EventBus) -> None:
    owner = str(uuid.uuid4())
    attempts: list[int] = []
    dead = await bus.jetstream.subscribe(
        "dlq.inbetwin.auth.user.registered", stream=DEAD_LETTER_STREAM
    )

    async def always_fails(event: auth_events_pb2.UserRegistered) -> None:
        if event.owner_id == owner:
            attempts.append(1)
            raise RuntimeError("poison")

    bus.consume(
        ConsumerSpec(
            durable=f"poison-{owner[:8]}",
            subjects=["inbetwin.auth.user.registered"],
            max_deliver=3,
            backoff_seconds=(0.05,),
        ),
        auth_events_pb2.UserRegistered,
        always_fails,
    )
    await bus.publish(_registered(owner))
    while True:
        message = await dead.next_msg(timeout=15)
        if auth_events_pb2.UserRegistered.FromString(message.data).owner_id == owner:
            break
    await dead.unsubscribe()
    assert len(attempts) == 3
    assert message.headers is not None
    assert "poison" in message.headers["Inbetwin-Dlq-Reason"]


async def test_outbox_publishes_committed_events_only(bus: EventBus, database: str) -> None:
    engine = create_engine(database, pool_size=2)
    relay = OutboxRelay(engine, bus, poll_interval=0.1)
    committed, rolled_back = _registered(), _registered()
    async with engine.begin() as conn:
        await add_event(conn, committed)

    async def failing_change() -> None:
        async with engine.begin() as conn:
            await add_event(conn, rolled_back)
            raise RuntimeError("the change failed, so must its event")

    with pytest.raises(RuntimeError):
        await failing_change()
    relay.start()
    relay.notify()
    seen = await _collect(
        bus, f"outbox-{committed.owner_id[:8]}", lambda s: committed.owner_id in s
    )
    await asyncio.sleep(0.5)
    assert rolled_back.owner_id not in seen
    await relay.stop()
    await engine.dispose()


async def test_claim_event_makes_a_consumer_idempotent(database: str) -> None:
    engine = create_engine(database, pool_size=2)
    event_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        assert await claim_event(conn, "c1", event_id)
    async with engine.begin() as conn:
        assert not await claim_event(conn, "c1", event_id)
        assert await claim_event(conn, "c2", event_id)
    # A claim rolled back with its effects is not a claim.
    other = str(uuid.uuid4())

    async def crashing_consumer() -> None:
        async with engine.begin() as conn:
            await claim_event(conn, "c1", other)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await crashing_consumer()
    async with engine.begin() as conn:
        assert await claim_event(conn, "c1", other)
    await engine.dispose()


async def test_retry_later_waits_as_asked(bus: EventBus) -> None:
    owner = str(uuid.uuid4())
    attempts: list[float] = []
    done = asyncio.Event()

    async def rate_limited(event: auth_events_pb2.UserRegistered) -> None:
        if event.owner_id != owner:
            return
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) == 1:
            raise RetryLaterError(0.5)
        done.set()

    bus.consume(
        ConsumerSpec(durable=f"later-{owner[:8]}", subjects=["inbetwin.auth.user.registered"]),
        auth_events_pb2.UserRegistered,
        rate_limited,
    )
    await bus.publish(_registered(owner))
    await asyncio.wait_for(done.wait(), 15)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.5

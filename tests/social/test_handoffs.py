"""The agent's handoffs mirrored into `agent_paused`: through the bus, idempotent, in any order,
and only for the event's owner."""

from __future__ import annotations

import itertools
import uuid
from typing import cast

from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import agent_events_pb2, social_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay
from services.social.handoff_events import HandoffMirror
from tests.social.samples import telegram_update
from tests.social.support import NewOwner, Platforms, Stub, eventually, owner_id, rows
from tests.social.test_telegram_service import conversation, deliver, secret_of

_chats = itertools.count(8_100_000_001)


class _QuietRelay:
    def notify(self) -> None:
        pass


def _handoff(contact_id: str, handoff_id: str | None = None) -> handoff_pb2.Handoff:
    return handoff_pb2.Handoff(
        id=handoff_id or str(uuid.uuid4()),
        agent_id=str(uuid.uuid4()),
        contact_id=contact_id,
        reason="asked for a human",
    )


def _requested(owner: str, handoff: handoff_pb2.Handoff) -> agent_events_pb2.HandoffRequested:
    return new_event(agent_events_pb2.HandoffRequested, owner_id=owner, handoff=handoff)


def _resolved(owner: str, handoff: handoff_pb2.Handoff) -> agent_events_pb2.HandoffResolved:
    return new_event(agent_events_pb2.HandoffResolved, owner_id=owner, handoff=handoff)


async def _paused(engine: AsyncEngine, contact_id: str) -> bool:
    [row] = await rows(engine, "SELECT agent_paused FROM contacts WHERE id = :c", c=contact_id)
    return bool(row.agent_paused)


async def _changes(engine: AsyncEngine, contact_id: str) -> list[str]:
    found = await rows(
        engine,
        "SELECT payload FROM outbox WHERE event_type = 'inbetwin.events.v1.ContactUpdated'"
        " ORDER BY seq",
    )
    events = [social_events_pb2.ContactUpdated.FromString(row.payload) for row in found]
    return [event.change for event in events if event.contact.id == contact_id]


def _mirror(engine: AsyncEngine) -> HandoffMirror:
    return HandoffMirror(engine=engine, relay=cast(OutboxRelay, _QuietRelay()))


async def test_a_handoff_pauses_the_agent_until_it_is_resolved(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    chat = next(_chats)
    token, integration_id, contact_id = await conversation(
        stub, platforms.telegram, engine, owner, chat
    )
    handoff = _handoff(contact_id)
    requested = _requested(owner_id(owner), handoff)
    await bus.publish(requested)

    async def paused() -> bool:
        return await _paused(engine, contact_id)

    await eventually(paused)
    # A message while the handoff is open is announced as one the agent may not answer.
    update = telegram_update("telegram_text_private_real.json")
    update["update_id"] += 1
    update["message"]["message_id"] += 1
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
    await deliver(stub, integration_id, update, secret=secret_of(platforms.telegram, token))
    found = await rows(
        engine,
        "SELECT payload FROM outbox WHERE event_type = 'inbetwin.events.v1.MessageReceived'"
        " ORDER BY seq",
    )
    received = [social_events_pb2.MessageReceived.FromString(row.payload) for row in found]
    mine = [event for event in received if event.contact.id == contact_id]
    assert [event.agent_may_reply for event in mine] == [True, False]

    # The same event again (another NATS message id) changes nothing.
    await bus.publish_raw(
        "inbetwin.agent.handoff.requested",
        requested.SerializeToString(),
        event_id=str(uuid.uuid4()),
        event_type=requested.DESCRIPTOR.full_name,
    )
    await bus.publish(_resolved(owner_id(owner), handoff))

    async def resumed() -> bool:
        return not await _paused(engine, contact_id)

    await eventually(resumed)
    assert await _changes(engine, contact_id) == ["handoff_opened", "handoff_resolved"]


async def test_a_resolution_that_arrives_first_wins(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    _, _, contact_id = await conversation(stub, platforms.telegram, engine, owner, next(_chats))
    mirror = _mirror(engine)
    handoff = _handoff(contact_id)
    await mirror.resolved(_resolved(owner_id(owner), handoff))
    await mirror.requested(_requested(owner_id(owner), handoff))
    assert not await _paused(engine, contact_id)
    assert await _changes(engine, contact_id) == []


async def test_the_agent_stays_paused_while_any_handoff_is_open(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    _, _, contact_id = await conversation(stub, platforms.telegram, engine, owner, next(_chats))
    mirror = _mirror(engine)
    first, second = _handoff(contact_id), _handoff(contact_id)
    await mirror.requested(_requested(owner_id(owner), first))
    await mirror.requested(_requested(owner_id(owner), second))
    await mirror.resolved(_resolved(owner_id(owner), first))
    assert await _paused(engine, contact_id)
    await mirror.resolved(_resolved(owner_id(owner), second))
    await mirror.resolved(_resolved(owner_id(owner), second))
    assert not await _paused(engine, contact_id)
    assert await _changes(engine, contact_id) == ["handoff_opened", "handoff_resolved"]


async def test_another_owners_handoff_or_malformed_ids_change_nothing(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    _, _, contact_id = await conversation(stub, platforms.telegram, engine, owner, next(_chats))
    mirror = _mirror(engine)
    intruder = owner_id(await new_owner())
    await mirror.requested(_requested(intruder, _handoff(contact_id)))
    await mirror.requested(_requested(owner_id(owner), _handoff("not-a-uuid")))
    assert not await _paused(engine, contact_id)
    assert await _changes(engine, contact_id) == []

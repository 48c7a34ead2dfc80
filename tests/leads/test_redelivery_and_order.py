"""Redelivered, duplicated and reordered events give the same lead; events for contacts leads
has never seen are kept until the contact's first message; lead.updated goes out via the outbox."""

from __future__ import annotations

import asyncio
import random
import uuid

from google.protobuf.message import Message as ProtoMessage
from inbetwin.events.v1 import leads_events_pb2, social_events_pb2
from inbetwin.leads.v1 import lead_pb2
from inbetwin.leads.v1 import leads_service_pb2 as pb
from nats.js.api import DeliverPolicy

from services.kit.bus import EVENTS_STREAM, EventBus
from services.kit.events import new_event
from tests.leads.conftest import Stub, as_owner, lead_of, publish, redeliver, settle
from tests.leads.conversations import Conversation, hot_en, warm_ru


def for_owner(events: list[ProtoMessage], owner_id: str) -> list[ProtoMessage]:
    """The same events (same contact, messages, handoffs) for another owner, with fresh event
    ids: a second, independent copy of one conversation."""
    copies = []
    for event in events:
        copy = type(event)()
        copy.CopyFrom(event)
        copy.event_id = str(uuid.uuid4())  # type: ignore[attr-defined]
        copy.owner_id = owner_id  # type: ignore[attr-defined]
        copies.append(copy)
    return copies


def comparable(lead: lead_pb2.Lead) -> lead_pb2.Lead:
    """What must not depend on delivery: everything but the lead's id and processing time."""
    copy = lead_pb2.Lead()
    copy.CopyFrom(lead)
    copy.ClearField("id")
    copy.ClearField("update_time")
    return copy


def full_conversation() -> Conversation:
    conversation = hot_en(Conversation())
    conversation.handoff("Asked for a person to sign the contract", resolved=True)
    conversation.renamed("Anna P. (Acme)")
    return conversation


async def test_redelivered_and_duplicated_events_change_nothing(stub: Stub, bus: EventBus) -> None:
    conversation = full_conversation()
    await publish(bus, conversation.events)
    await settle(bus)
    before = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert before is not None

    for event in conversation.events:  # every event again, past the duplicate window
        await redeliver(bus, event)
    for event in conversation.events:  # social publishing the same messages under new event ids
        if isinstance(event, social_events_pb2.MessageReceived):
            again = social_events_pb2.MessageReceived()
            again.CopyFrom(event)
            again.event_id = str(uuid.uuid4())
            await bus.publish(again)
    await settle(bus)

    after = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert after is not None
    assert after.lead == before.lead  # same version, same update_time: not even rewritten
    assert after.score_history == before.score_history
    engagement = after.lead.factors[0]
    assert engagement.summary.startswith("3 messages from the contact")


async def test_reordered_events_give_the_same_lead(stub: Stub, bus: EventBus) -> None:
    original = full_conversation()
    await publish(bus, original.events)
    await settle(bus)

    reversed_owner = str(uuid.uuid4())
    for event in reversed(for_owner(original.events, reversed_owner)):
        await bus.publish(event)  # one at a time, newest first: facts, assessments, the
        await settle(bus)  # resolution and the rename all arrive before what they refer to

    shuffled_owner = str(uuid.uuid4())
    shuffled = for_owner(original.events, shuffled_owner)
    random.Random(9).shuffle(shuffled)
    await publish(bus, shuffled)  # all at once: handled concurrently, in any interleaving
    await settle(bus)

    leads = [
        await lead_of(stub, owner, original.contact_id)
        for owner in (original.owner_id, reversed_owner, shuffled_owner)
    ]
    assert all(found is not None for found in leads)
    expected, *others = [comparable(found.lead) for found in leads if found is not None]
    assert expected.score == 88
    assert expected.display_name == "Anna P. (Acme)"
    for other in others:
        assert other == expected


async def test_signals_for_an_unknown_contact_wait_for_its_first_message(
    stub: Stub, bus: EventBus
) -> None:
    early = warm_ru(Conversation())
    messages = [e for e in early.events if isinstance(e, social_events_pb2.MessageReceived)]
    others = [e for e in early.events if e not in messages]
    await publish(bus, others)  # facts, assessments, the agent's replies: no inbound yet...
    await settle(bus)
    sent_only = await lead_of(stub, early.owner_id, early.contact_id)
    assert sent_only is not None  # ...the agent's messages alone make a lead, still NEW
    assert sent_only.lead.stage == lead_pb2.LEAD_STAGE_NEW

    facts_only = Conversation()
    facts_only.facts_saved(str(uuid.uuid4()), budget="100k")
    facts_only.assessed(str(uuid.uuid4()), -0.9)
    await publish(bus, facts_only.events)
    await settle(bus)
    assert await lead_of(stub, facts_only.owner_id, facts_only.contact_id) is None
    listed = await stub.ListLeads(pb.ListLeadsRequest(), metadata=as_owner(facts_only.owner_id))
    assert listed.total_size == 0

    await publish(bus, messages)
    await settle(bus)
    found = await lead_of(stub, early.owner_id, early.contact_id)
    assert found is not None
    assert found.lead.score == 35  # the same as when everything came in order
    assert found.lead.factors[2].evidence[0].fact_key == "need"


async def test_events_with_malformed_ids_are_dropped_without_blocking_others(
    stub: Stub, bus: EventBus
) -> None:
    broken = new_event(
        social_events_pb2.MessageReceived,
        owner_id="not-a-uuid",
        message={"id": "also-not-a-uuid", "contact_id": str(uuid.uuid4()), "text": "hi"},
    )
    await bus.publish(broken)
    conversation = warm_ru(Conversation())
    await publish(bus, conversation.events)
    await settle(bus)
    assert await lead_of(stub, conversation.owner_id, conversation.contact_id) is not None


async def test_every_change_is_announced_as_lead_updated(stub: Stub, bus: EventBus) -> None:
    conversation = Conversation()
    seen: list[leads_events_pb2.LeadUpdated] = []
    arrived = asyncio.Event()

    async def collect(msg: object) -> None:
        event = leads_events_pb2.LeadUpdated.FromString(msg.data)  # type: ignore[attr-defined]
        if event.owner_id == conversation.owner_id:
            seen.append(event)
            if len(seen) >= 2:
                arrived.set()

    subscription = await bus.jetstream.subscribe(
        "inbetwin.leads.lead.updated",
        stream=EVENTS_STREAM,
        cb=collect,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    try:
        first = conversation.says("Hi! How much does a consultation cost?")
        await publish(bus, conversation.events)
        await settle(bus)
        conversation.events.clear()
        conversation.facts_saved(first, need="a consultation", budget="5000")
        await publish(bus, conversation.events)
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        await subscription.unsubscribe()
    created, facts = seen[:2]
    found = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert found is not None
    assert (created.lead_id, created.contact_id) == (found.lead.id, conversation.contact_id)
    assert (created.previous_score, created.previous_stage, created.cause) == (
        0,
        "",
        "conversation",
    )
    assert created.stage == "new"
    assert created.integration_id == conversation.integration_id
    assert facts.cause == "fact_saved"
    assert facts.previous_score == created.score
    assert facts.score == found.lead.score > created.score
    assert facts.stage == "qualified"
    assert [p.cause for p in found.score_history] == [
        lead_pb2.LEAD_CHANGE_CAUSE_CONVERSATION,
        lead_pb2.LEAD_CHANGE_CAUSE_FACT_SAVED,
    ]

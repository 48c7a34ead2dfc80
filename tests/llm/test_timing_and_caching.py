"""The reply pipeline's clocks and caches: the agent's reply delay (without holding the
consumer), the maximum burst length, and the in-process cache of agents and conversation
control, dropped by the bus events that change them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from inbetwin.agent.v1 import action_pb2, handoff_pb2
from inbetwin.events.v1 import agent_events_pb2, rag_events_pb2, social_events_pb2
from inbetwin.rag.v1 import knowledge_base_pb2 as kb_pb2

from services.kit.bus import EventBus
from services.kit.events import new_event
from services.kit.server import ServerHandle, create_server
from services.llm.server import SERVICE_NAMES, wire
from services.stack import Stack
from tests.llm.conftest import Collected, eventually, llm_settings, publish
from tests.llm.fakes import Peers
from tests.llm.test_reply_pipeline import kinds, new_conversation
from tests.standins.openai_api import Hang, OpenAIStandIn, Reply

Register = Callable[[], Awaitable[str]]
A = action_pb2
WINDOW = 0.4
MAX_BURST = 1.5


@pytest.fixture(scope="module")
async def tuned_llm(
    auth_stack: Stack, llm_database: str, peers: Peers, openai_api: OpenAIStandIn
) -> AsyncIterator[ServerHandle]:
    """llm with production-like caches (long TTLs: only events refresh them) and a short
    maximum burst."""
    settings = llm_settings(
        auth_stack,
        llm_database,
        peers,
        openai_api,
        coalesce_window_seconds=WINDOW,
        max_burst_seconds=MAX_BURST,
        agent_cache_seconds=600.0,
        control_cache_seconds=600.0,
    )
    handle = await create_server(
        settings, service_names=SERVICE_NAMES, error_domain="llm.inbetwin.app", wire=wire
    )
    yield handle
    await handle.stop(1.0)


async def recorded_at(database_url: str, message_id: str) -> datetime:
    db = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        value = await db.fetchval(
            "SELECT recorded_at FROM inbound_messages WHERE message_id = $1", message_id
        )
    finally:
        await db.close()
    assert isinstance(value, datetime)
    return value


async def test_the_reply_delay_is_kept_without_holding_the_consumer(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    register_owner: Register,
    llm_database: str,
) -> None:
    delay = 3
    patient, _ = await new_conversation(register_owner, peers, reply_delay_seconds=delay)
    quick, _ = await new_conversation(register_owner, peers)
    slow_event = patient.message("Do you cut curly hair?")
    await publish(bus, slow_event)
    await eventually(lambda: collected.assessed(message_id=slow_event.message.id))
    # Another conversation is answered while the first waits: the consumer is not held.
    quick_event = quick.message("Hi")
    await publish(bus, quick_event)
    await eventually(lambda: collected.replies(in_reply_to_message_id=quick_event.message.id))
    assert collected.replies(contact_id=patient.contact_id) == []

    (reply,) = await eventually(
        lambda: collected.replies(in_reply_to_message_id=slow_event.message.id)
    )
    received = await recorded_at(llm_database, slow_event.message.id)
    waited = (reply.occur_time.ToDatetime(UTC) - received).total_seconds()
    assert waited >= WINDOW + delay


async def test_a_message_during_the_reply_delay_supersedes_the_reply(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, reply_delay_seconds=3)
    first = conversation.message("Do you cut curly hair?")
    await publish(bus, first)
    await eventually(lambda: collected.assessed(message_id=first.message.id))
    await asyncio.sleep(WINDOW + 0.5)  # past the coalescing window, inside the reply delay
    second = conversation.message("And beards?")
    await publish(bus, second)
    replies = await eventually(lambda: collected.replies(contact_id=conversation.contact_id))
    assert [r.in_reply_to_message_id for r in replies] == [second.message.id]
    (request,) = openai_api.chat_requests(containing=conversation.owner_id)
    users = [m["content"] for m in request["messages"] if m["role"] == "user"]
    assert users == ["Do you cut curly hair?", "And beards?"]


async def test_a_chatty_contact_is_answered_within_the_maximum_burst(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    events: list[social_events_pb2.MessageReceived] = []
    # A message every 0.25 s for three maximum bursts: each would extend a plain window.
    for index in range(int(3 * MAX_BURST / 0.25)):
        event = conversation.message(f"and another thing #{index}")
        events.append(event)
        await publish(bus, event)
        await asyncio.sleep(0.25)

    def everything_answered() -> bool:
        answered = {
            r.in_reply_to_message_id for r in collected.replies(contact_id=conversation.contact_id)
        }
        return events[-1].message.id in answered

    await eventually(everything_answered)
    replies = collected.replies(contact_id=conversation.contact_id)
    assert len(replies) >= 2, "the bursts were capped, not merged into one"
    answered = [r.in_reply_to_message_id for r in replies]
    assert len(answered) == len(set(answered))
    # Each capped burst was answered whole: every user turn was sent to the model once.


async def test_cached_control_and_agents_follow_the_bus_events(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    register_owner: Register,
) -> None:
    conversation, agent = await new_conversation(register_owner, peers)
    owner, contact = conversation.owner_id, conversation.contact_id

    async def answered() -> None:
        event = conversation.message("Hello?")
        await publish(bus, event)
        await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))

    async def skipped(reason: str) -> None:
        event = conversation.message("Hello?")
        await publish(bus, event)
        found = await eventually(lambda: kinds(peers, event.message.id))
        assert found == {"ACTION_KIND_REPLY_SKIPPED": reason}

    await answered()
    await answered()
    # Two replies check control twice each (before writing, before sending): four calls
    # uncached. Cached: one, or two when a minute boundary (working hours) fell in between.
    assert peers.agent.state.control_calls[(owner, contact)] <= 2

    handoff = handoff_pb2.Handoff(
        id="11111111-1111-4111-8111-111111111111",
        agent_id=agent.id,
        integration_id=conversation.integration_id,
        contact_id=contact,
        state=handoff_pb2.HANDOFF_STATE_OPEN,
    )
    peers.agent.state.controls[(owner, contact)] = handoff_pb2.ConversationControl(
        may_reply=False, blocks=[handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN], open_handoff=handoff
    )
    await bus.publish(new_event(agent_events_pb2.HandoffRequested, owner_id=owner, handoff=handoff))
    await skipped("CONVERSATION_HANDED_OFF")

    del peers.agent.state.controls[(owner, contact)]
    handoff.state = handoff_pb2.HANDOFF_STATE_RESOLVED
    await bus.publish(new_event(agent_events_pb2.HandoffResolved, owner_id=owner, handoff=handoff))
    await answered()

    agent.enabled = False  # the fake lists enabled agents only
    await bus.publish(
        new_event(agent_events_pb2.AgentConfigChanged, owner_id=owner, agent_id=agent.id)
    )
    await skipped("NO_AGENT_FOR_INTEGRATION")


async def test_a_handoff_while_the_reply_is_written_silences_it(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, agent = await new_conversation(register_owner, peers)
    owner, contact = conversation.owner_id, conversation.contact_id
    slow = Hang(Reply("talking over the human"))
    openai_api.script(slow, when=owner)
    event = conversation.message("Can I speak to a person?")
    await publish(bus, event)
    await eventually(slow.entered.is_set)  # the control answer (may reply) is cached by now
    handoff = handoff_pb2.Handoff(
        id="22222222-2222-4222-8222-222222222222",
        agent_id=agent.id,
        integration_id=conversation.integration_id,
        contact_id=contact,
        state=handoff_pb2.HANDOFF_STATE_OPEN,
    )
    peers.agent.state.controls[(owner, contact)] = handoff_pb2.ConversationControl(
        may_reply=False, blocks=[handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN], open_handoff=handoff
    )
    await bus.publish(new_event(agent_events_pb2.HandoffRequested, owner_id=owner, handoff=handoff))
    await asyncio.sleep(0.5)  # the event reaches llm's subscription (same loop, local NATS)
    slow.release()
    found = await eventually(lambda: kinds(peers, event.message.id))
    assert found == {"ACTION_KIND_REPLY_SKIPPED": "CONVERSATION_HANDED_OFF"}
    assert collected.replies(contact_id=contact) == []


async def test_an_agent_without_knowledge_is_not_searched_until_a_document_is_indexed(
    tuned_llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    owner = conversation.owner_id
    empty = kb_pb2.KnowledgeBase(id="33333333-3333-4333-8333-333333333333", display_name="FAQ")
    peers.rag.knowledge_bases[owner] = [empty]

    async def answered() -> None:
        event = conversation.message("What are your prices?")
        await publish(bus, event)
        await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))

    def searches() -> int:
        return sum(1 for who, _ in peers.rag.queries if who == owner)

    await answered()
    assert searches() == 0
    filled = kb_pb2.KnowledgeBase(id=empty.id, display_name="FAQ", document_count=1)
    peers.rag.knowledge_bases[owner] = [filled]
    await bus.publish(new_event(rag_events_pb2.DocumentIndexed, owner_id=owner))
    await asyncio.sleep(0.5)  # the event reaches llm's subscription (same loop, local NATS)
    await answered()
    assert searches() == 1

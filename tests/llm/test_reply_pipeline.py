"""The reply pipeline end to end inside the llm service: message.received events on real NATS
JetStream → the in-process llm service (real Postgres, real auth) → ReplyRequested on the bus.
The model is the OpenAI-compatible stand-in; agent, rag and social are in-process fakes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from inbetwin.agent.v1 import action_pb2, agent_pb2, handoff_pb2, tool_pb2
from inbetwin.events.v1 import agent_events_pb2
from inbetwin.social.v1 import message_pb2

from services.kit.bus import EventBus
from services.kit.events import deterministic_id, new_event
from services.kit.server import ServerHandle
from services.llm.settings import OFFLINE_MODEL
from services.stack import Stack
from tests.llm.conftest import (
    FLAKY_MODEL,
    Collected,
    Conversation,
    eventually,
    publish,
    redeliver,
)
from tests.llm.fakes import Peers, passage_hit, qa_hit
from tests.standins.openai_api import Fail, Hang, OpenAIStandIn, Reply, ToolCalls

Register = Callable[[], Awaitable[str]]
A = action_pb2


def tool(name: str) -> tool_pb2.ToolDefinition:
    return tool_pb2.ToolDefinition(
        name=name, description=f"the {name} tool", kind=tool_pb2.TOOL_KIND_BUILTIN
    )


async def new_conversation(
    register: Register,
    peers: Peers,
    *,
    model: str = "",
    tools: tuple[str, ...] = (),
    **agent: object,
) -> tuple[Conversation, agent_pb2.Agent]:
    owner = await register()
    conversation = Conversation(owner)
    created = peers.agent.add_agent(
        owner,
        display_name="Sales",
        system_prompt=f"You sell haircuts for {owner}.",
        model=model,
        tools=[tool(name) for name in tools],
        **agent,
    )
    peers.social.history[(owner, conversation.contact_id)] = []
    return conversation, created


def kinds(peers: Peers, message_id: str) -> dict[str, str]:
    return {A.ActionKind.Name(a.kind): a.reason for a in peers.agent.actions_for(message_id)}


async def test_a_message_is_answered_once_with_its_context(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, agent = await new_conversation(register_owner, peers)
    owner = conversation.owner_id
    earlier = message_pb2.Message(
        id=str(uuid.uuid4()),
        direction=message_pb2.MESSAGE_DIRECTION_OUTBOUND,
        text="Hi! How can I help?",
    )
    peers.social.history[(owner, conversation.contact_id)] = [earlier]
    peers.rag.hits[owner] = [passage_hit("A haircut costs 1500 RUB.", file_name="prices.pdf")]
    openai_api.script(Reply("A haircut is 1500 RUB [1]."), when=owner)
    event = conversation.message("Thank you! How much is a haircut?")
    await publish(bus, event)

    reply_id = deterministic_id("reply", event.message.id)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    assert [r.text for r in replies] == ["A haircut is 1500 RUB [1]."]
    reply = replies[0]
    assert reply.reply_id == reply.event_id == reply_id
    assert (reply.agent_id, reply.contact_id, reply.integration_id) == (
        agent.id,
        conversation.contact_id,
        conversation.integration_id,
    )
    request = openai_api.chat_requests(containing=owner)[-1]
    system = request["messages"][0]["content"]
    assert system.startswith(f"You sell haircuts for {owner}.")
    assert "[1] (prices.pdf, p. 2) A haircut costs 1500 RUB." in system
    assert request["messages"][1:] == [
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "user", "content": "Thank you! How much is a haircut?"},
    ]
    assessed = await eventually(lambda: collected.assessed(message_id=event.message.id))
    assert assessed[0].sentiment > 0.2
    assert "pricing" in assessed[0].intents
    assert kinds(peers, event.message.id) == {"ACTION_KIND_REPLY_SENT": ""}

    # A replay of the same event adds nothing; a later message gets its own single reply.
    await redeliver(bus, event)
    later = conversation.message("And on Sunday?")
    await publish(bus, later)
    await eventually(lambda: collected.replies(in_reply_to_message_id=later.message.id))
    assert len(collected.replies(in_reply_to_message_id=event.message.id)) == 1
    assert len(collected.replies(contact_id=conversation.contact_id)) == 2


async def test_facts_saved_by_the_agent_reach_the_prompt(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
    llm_database: str,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    saved = new_event(
        agent_events_pb2.UserInfoSaved,
        owner_id=conversation.owner_id,
        contact_id=conversation.contact_id,
        facts={"name": "Ann Petrova", "budget": "2000"},
    )
    await bus.publish(saved)
    db = await asyncpg.connect(llm_database.replace("postgresql+asyncpg", "postgresql"))
    try:
        for _ in range(400):
            if await db.fetchval(
                "SELECT count(*) FROM contact_facts WHERE contact_id = $1", conversation.contact_id
            ):
                break
            await asyncio.sleep(0.05)
    finally:
        await db.close()
    event = conversation.message("Hello")
    await publish(bus, event)
    await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    system = openai_api.chat_requests(containing=conversation.owner_id)[-1]["messages"][0][
        "content"
    ]
    assert "- budget: 2000" in system
    assert "- name: Ann Petrova" in system


async def test_a_burst_is_answered_once_together(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    burst = [conversation.message(text) for text in ("Hi", "I want a haircut", "tomorrow at 5?")]
    for event in burst:
        await publish(bus, event)
    replies = await eventually(lambda: collected.replies(contact_id=conversation.contact_id))
    assert [r.in_reply_to_message_id for r in replies] == [burst[-1].message.id]
    requests = openai_api.chat_requests(containing=conversation.owner_id)
    assert len(requests) == 1
    users = [m["content"] for m in requests[0]["messages"] if m["role"] == "user"]
    assert users == ["Hi", "I want a haircut", "tomorrow at 5?"]
    # The next message, after the burst was answered, starts a new burst of its own.
    after = conversation.message("thanks")
    await publish(bus, after)
    await eventually(lambda: collected.replies(in_reply_to_message_id=after.message.id))
    assert len(collected.replies(contact_id=conversation.contact_id)) == 2


async def test_a_newer_message_supersedes_the_reply_being_written(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    slow = Hang(Reply("stale answer"))
    openai_api.script(slow, Reply("fresh answer to both"), when=conversation.owner_id)
    first = conversation.message("What are your hours?")
    await publish(bus, first)
    await eventually(slow.entered.is_set)
    second = conversation.message("Actually, are you open on Sunday?")
    await publish(bus, second)
    await eventually(lambda: collected.assessed(message_id=second.message.id))
    slow.release()
    replies = await eventually(lambda: collected.replies(contact_id=conversation.contact_id))
    assert [(r.in_reply_to_message_id, r.text) for r in replies] == [
        (second.message.id, "fresh answer to both")
    ]
    assert kinds(peers, first.message.id) == {"ACTION_KIND_REPLY_SUPERSEDED": "REPLY_SUPERSEDED"}
    last_request = openai_api.chat_requests(containing=conversation.owner_id)[-1]
    users = [m["content"] for m in last_request["messages"] if m["role"] == "user"]
    assert users == ["What are your hours?", "Actually, are you open on Sunday?"]


async def _skipped(
    bus: EventBus, peers: Peers, conversation: Conversation, reason: str, **message: bool
) -> None:
    event = conversation.message("Hello?", **message)
    await publish(bus, event)
    found = await eventually(lambda: kinds(peers, event.message.id))
    assert found == {"ACTION_KIND_REPLY_SKIPPED": reason}


async def test_skips_are_silent_and_recorded_with_their_reason(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
    auth_stack: Stack,
    llm_database: str,
) -> None:
    conversation, agent = await new_conversation(register_owner, peers)
    owner = conversation.owner_id
    await _skipped(bus, peers, conversation, "CONTACT_NOT_ALLOWED", may_reply=False)
    await _skipped(bus, peers, conversation, "CONVERSATION_HANDED_OFF", paused=True)

    control = handoff_pb2.ConversationControl(
        may_reply=False, blocks=[handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN]
    )
    peers.agent.state.controls[(owner, conversation.contact_id)] = control
    await _skipped(bus, peers, conversation, "CONVERSATION_HANDED_OFF")
    control.blocks[:] = [handoff_pb2.REPLY_BLOCK_OUTSIDE_WORKING_HOURS]
    await _skipped(bus, peers, conversation, "OUTSIDE_WORKING_HOURS")
    del peers.agent.state.controls[(owner, conversation.contact_id)]

    agent.enabled = False
    await _skipped(bus, peers, conversation, "NO_AGENT_FOR_INTEGRATION")
    agent.enabled = True

    # The plan's monthly limit (Free: 300 replies, from the real auth service) is used up.
    db = await asyncpg.connect(llm_database.replace("postgresql+asyncpg", "postgresql"))
    await db.execute(
        "INSERT INTO usage_counters (owner_id, period, agent_id, messages_answered) "
        "VALUES ($1, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), '', 300)",
        owner,
    )
    await db.close()
    await _skipped(bus, peers, conversation, "MESSAGE_LIMIT_REACHED")

    assert collected.replies(contact_id=conversation.contact_id) == []
    assert openai_api.chat_requests(containing=owner) == []


async def test_tool_calls_run_through_the_agent_service(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, agent = await new_conversation(register_owner, peers, tools=("save_user_info",))
    owner = conversation.owner_id
    openai_api.script(
        ToolCalls([("save_user_info", '{"name": "Ann"}')]),
        ToolCalls([("save_user_info", '{"name": "Ann", "phone": oops}')]),
        ToolCalls([("hallucinated_tool", "{}")]),
        Reply("Thanks Ann, noted!"),
        when=owner,
    )
    event = conversation.message("I'm Ann")
    await publish(bus, event)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    assert replies[0].text == "Thanks Ann, noted!"
    executed = [r for o, r in peers.agent.state.executed if o == owner]
    # The malformed call never reached the agent service; the unknown one was rejected by it.
    assert [(r.tool_name, r.arguments_json) for r in executed] == [
        ("save_user_info", '{"name": "Ann"}'),
        ("hallucinated_tool", "{}"),
    ]
    assert all(r.call_id.startswith(f"{event.message.id}:call-") for r in executed)
    assert all(r.agent_id == agent.id and not r.dry_run for r in executed)
    requests = openai_api.chat_requests(containing=owner)
    tool_messages = [m for m in requests[-1]["messages"] if m["role"] == "tool"]
    assert tool_messages[0]["content"] == '{"ok": true}'
    assert "MALFORMED_TOOL_CALL" in tool_messages[1]["content"]
    assert "TOOL_UNKNOWN" in tool_messages[2]["content"]
    assert requests[0]["tools"][0]["function"]["name"] == "save_user_info"


async def test_loop_caps_escalate_instead_of_replying(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, tools=("lookup",))
    owner = conversation.owner_id
    repeated = ToolCalls([("lookup", '{"q": "price"}')])
    openai_api.script(repeated, ToolCalls([("lookup", '{ "q" : "price" }')]), when="loop please")
    looping = conversation.message("loop please")
    await publish(bus, looping)
    await eventually(lambda: peers.agent.handoffs_for(conversation.contact_id))
    await eventually(lambda: kinds(peers, looping.message.id))
    assert kinds(peers, looping.message.id) == {"ACTION_KIND_REPLY_SKIPPED": "REPEATED_TOOL_CALL"}
    handoff = peers.agent.handoffs_for(conversation.contact_id)[0]
    assert handoff.requested_by == handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL
    assert handoff.message_id == looping.message.id

    other, _ = await new_conversation(register_owner, peers, tools=("lookup",))
    steps = [ToolCalls([("lookup", json.dumps({"q": n}))]) for n in range(10)]
    openai_api.script(*steps, when=other.owner_id)
    endless = other.message("keep looking")
    await publish(bus, endless)
    await eventually(lambda: peers.agent.handoffs_for(other.contact_id))
    await eventually(lambda: kinds(peers, endless.message.id))
    # 4 steps allowed by default; 6 tool calls allowed: the step cap trips first.
    assert kinds(peers, endless.message.id) == {"ACTION_KIND_REPLY_SKIPPED": "STEP_LIMIT_REACHED"}
    assert len(openai_api.chat_requests(containing=other.owner_id)) == 4
    assert collected.replies(contact_id=conversation.contact_id) == []
    assert collected.replies(contact_id=other.contact_id) == []
    assert owner


async def test_tool_call_cap(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, tools=("lookup",))
    many = ToolCalls([("lookup", json.dumps({"q": n})) for n in range(7)])
    openai_api.script(many, when=conversation.owner_id)
    event = conversation.message("look up everything")
    await publish(bus, event)
    await eventually(lambda: peers.agent.handoffs_for(conversation.contact_id))
    await eventually(lambda: kinds(peers, event.message.id))
    assert kinds(peers, event.message.id) == {
        "ACTION_KIND_REPLY_SKIPPED": "TOOL_CALL_LIMIT_REACHED"
    }
    executed = [r for o, r in peers.agent.state.executed if o == conversation.owner_id]
    assert len(executed) == 6


async def test_call_operator_sends_the_last_words_then_stays_silent(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, tools=("call_operator",))
    openai_api.script(
        ToolCalls([("call_operator", '{"reason": "wants a manager"}')]),
        Reply("A manager will answer you shortly."),
        when=conversation.owner_id,
    )
    event = conversation.message("I want to talk to a manager")
    await publish(bus, event)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    assert replies[0].text == "A manager will answer you shortly."
    last = openai_api.chat_requests(containing=conversation.owner_id)[-1]
    assert "tools" not in last  # the closing step cannot call anything more
    assert peers.agent.handoffs_for(conversation.contact_id) == []  # the tool opened it


async def test_an_unsafe_reply_is_not_sent_and_escalates(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    openai_api.script(Reply("Only an idiot would ask that."), when=conversation.owner_id)
    event = conversation.message("Is the price negotiable?")
    await publish(bus, event)
    await eventually(lambda: peers.agent.handoffs_for(conversation.contact_id))
    await eventually(lambda: kinds(peers, event.message.id))
    assert kinds(peers, event.message.id) == {"ACTION_KIND_REPLY_SUPPRESSED": "REPLY_UNSAFE"}
    suppressed = peers.agent.actions_for(event.message.id)[0]
    assert suppressed.details["text"] == "Only an idiot would ask that."
    assert suppressed.details["checker"] == "moderation"
    assert "Only an idiot would ask that." in openai_api.moderation_inputs()
    assert collected.replies(contact_id=conversation.contact_id) == []


async def test_offline_agent_answers_only_from_the_owners_words(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, model=OFFLINE_MODEL)
    owner = conversation.owner_id
    peers.rag.hits[owner] = [qa_hit("How much is a haircut?", "1500 RUB, 45 minutes.", exact=True)]
    asked = conversation.message("How much is a haircut?")
    await publish(bus, asked)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=asked.message.id))
    assert replies[0].text == "1500 RUB, 45 minutes."

    peers.rag.hits[owner] = [
        passage_hit("We are open daily from 10:00 to 20:00, Sundays included.", score=0.9)
    ]
    hours = conversation.message("When are you open on Sundays?")
    await publish(bus, hours)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=hours.message.id))
    assert replies[0].text == "We are open daily from 10:00 to 20:00, Sundays included."

    peers.rag.hits[owner] = [passage_hit("Gift cards are sold at the front desk.", score=0.4)]
    unsure = conversation.message("Do you do wedding hairstyles?")
    await publish(bus, unsure)
    await eventually(lambda: peers.agent.handoffs_for(conversation.contact_id))
    await eventually(lambda: kinds(peers, unsure.message.id))
    assert kinds(peers, unsure.message.id) == {"ACTION_KIND_REPLY_SKIPPED": "OFFLINE_NOT_CONFIDENT"}
    assert collected.replies(in_reply_to_message_id=unsure.message.id) == []
    assert openai_api.chat_requests(containing=owner) == []


async def test_a_failing_endpoint_falls_back_offline_then_the_circuit_opens(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers, model=FLAKY_MODEL)
    owner = conversation.owner_id
    peers.rag.hits[owner] = [qa_hit("Where are you?", "Tverskaya 1, Moscow.", exact=True)]
    # Each message: the first try and the SDK's one retry fail (500, then 429).
    openai_api.script(Fail(500), Fail(429), Fail(500), Fail(500), when=owner)
    for n in range(2):
        event = conversation.message(f"Where are you? ({n})")
        await publish(bus, event)
        replies = await eventually(
            lambda e=event: collected.replies(in_reply_to_message_id=e.message.id)  # type: ignore[misc]
        )
        assert replies[0].text == "Tverskaya 1, Moscow."
    assert len(openai_api.chat_requests(containing=owner)) == 4
    # Two failed replies opened the circuit: the endpoint is not even tried now.
    third = conversation.message("Where are you? (2)")
    await publish(bus, third)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=third.message.id))
    assert replies[0].text == "Tverskaya 1, Moscow."
    assert len(openai_api.chat_requests(containing=owner)) == 4
    sent = peers.agent.actions_for(third.message.id)[0]
    assert sent.details["fallback"] is True
    assert sent.details["provider"] == "PROVIDER_OFFLINE"


async def test_a_rate_limited_endpoint_is_retried(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    openai_api.script(
        Fail(429, retry_after_ms=20), Reply("after the wait"), when=conversation.owner_id
    )
    event = conversation.message("hello there")
    await publish(bus, event)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    assert replies[0].text == "after the wait"


async def test_a_reply_over_the_platform_limit_is_split_and_trimmed(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    conversation, _ = await new_conversation(register_owner, peers)
    sentence = "This sentence is about forty characters. "
    openai_api.script(Reply(sentence * 400), when=conversation.owner_id)  # ~16400 characters
    event = conversation.message("tell me everything")
    await publish(bus, event)
    replies = await eventually(lambda: collected.replies(in_reply_to_message_id=event.message.id))
    parts = replies[0].text.split("\n\n")
    assert len(parts) == 3
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].endswith("characters.")
    assert parts[-1].endswith("…")


async def test_peers_not_built_yet_degrade_to_defaults(
    llm: ServerHandle,
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    owner = await register_owner()
    conversation = Conversation(owner)
    peers.agent.unimplemented = peers.rag.unimplemented = peers.social.unimplemented = True
    try:
        openai_api.script(Reply("default agent here"), when=owner)
        event = conversation.message(f"hi from {owner}")
        await publish(bus, event)
        replies = await eventually(
            lambda: collected.replies(in_reply_to_message_id=event.message.id)
        )
    finally:
        peers.agent.unimplemented = peers.rag.unimplemented = peers.social.unimplemented = False
    assert replies[0].text == "default agent here"
    assert replies[0].agent_id == ""
    request = openai_api.chat_requests(containing=owner)[-1]
    assert "tools" not in request
    assert request["messages"][-1] == {"role": "user", "content": f"hi from {owner}"}

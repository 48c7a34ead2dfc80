"""Handoffs: the OPEN -> RESOLVED state machine from every path (owner takeover, llm's request,
the owner's manual message through social's contact.updated), the conversation control check,
events, the action log, and owner isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import nats
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import action_pb2, agent_pb2, handoff_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb
from inbetwin.events.v1 import agent_events_pb2, social_events_pb2
from inbetwin.social.v1 import contact_pb2

from services.kit.bus import EventBus
from services.kit.events import new_event, subject_of
from services.stack import Stack
from tests.agent.conftest import AgentStub, Metadata, NewContact, NewOwner, reason_of


def _owner() -> Metadata:
    return (("x-user-id", str(uuid.uuid4())),)


def _conversation() -> dict[str, str]:
    return {"integration_id": str(uuid.uuid4()), "contact_id": str(uuid.uuid4())}


async def _contact_of(new_contact: NewContact, owner: Metadata) -> dict[str, str]:
    """A conversation with a real contact of the owner's (social checks it on CreateHandoff)."""
    integration_id, contact_id = await new_contact(owner)
    return {"integration_id": integration_id, "contact_id": contact_id}


async def _error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def _control(
    stub: AgentStub, owner: Metadata, **fields: str
) -> handoff_pb2.ConversationControl:
    response = await stub.GetConversationControl(
        pb.GetConversationControlRequest(**fields), metadata=owner
    )
    control: handoff_pb2.ConversationControl = response.control
    return control


@pytest.fixture(scope="module")
async def bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name="agent-handoff-tests")
    yield bus
    await bus.close()


async def test_owner_takeover_then_hand_back(
    stub: AgentStub, infra: Stack, new_owner: NewOwner, new_contact: NewContact
) -> None:
    owner = await new_owner()
    conversation = await _contact_of(new_contact, owner)
    client = await nats.connect(infra.nats_url)
    requested: list[agent_events_pb2.HandoffRequested] = []
    resolved: list[agent_events_pb2.HandoffResolved] = []

    async def on_requested(msg: Any) -> None:
        event = agent_events_pb2.HandoffRequested.FromString(msg.data)
        if event.owner_id == owner[0][1]:
            requested.append(event)

    async def on_resolved(msg: Any) -> None:
        event = agent_events_pb2.HandoffResolved.FromString(msg.data)
        if event.owner_id == owner[0][1]:
            resolved.append(event)

    await client.subscribe(subject_of(agent_events_pb2.HandoffRequested), cb=on_requested)
    await client.subscribe(subject_of(agent_events_pb2.HandoffResolved), cb=on_resolved)
    try:
        assert (await _control(stub, owner, **conversation)).may_reply
        opened = await stub.CreateHandoff(
            pb.CreateHandoffRequest(reason="I'll take it", **conversation), metadata=owner
        )
        assert opened.created
        handoff = opened.handoff
        assert handoff.state == handoff_pb2.HANDOFF_STATE_OPEN
        assert handoff.requested_by == handoff_pb2.HANDOFF_REQUESTER_OWNER_MANUAL
        again = await stub.CreateHandoff(pb.CreateHandoffRequest(**conversation), metadata=owner)
        assert not again.created
        assert again.handoff == handoff  # no second handoff: every path converges

        control = await _control(stub, owner, **conversation)
        assert not control.may_reply
        assert list(control.blocks) == [handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN]
        assert control.open_handoff.id == handoff.id

        done = await stub.ResolveHandoff(
            pb.ResolveHandoffRequest(handoff_id=handoff.id, note="sorted"), metadata=owner
        )
        assert done.handoff.state == handoff_pb2.HANDOFF_STATE_RESOLVED
        assert done.handoff.resolution_note == "sorted"
        assert done.handoff.resolve_time.seconds > 0
        twice = await stub.ResolveHandoff(
            pb.ResolveHandoffRequest(handoff_id=handoff.id, note="changed?"), metadata=owner
        )
        assert twice.handoff == done.handoff
        assert (await _control(stub, owner, **conversation)).may_reply

        reopened = await stub.CreateHandoff(pb.CreateHandoffRequest(**conversation), metadata=owner)
        assert reopened.created
        assert reopened.handoff.id != handoff.id

        listed = await stub.ListHandoffs(pb.ListHandoffsRequest(), metadata=owner)
        assert [h.id for h in listed.handoffs] == [reopened.handoff.id, handoff.id]
        open_only = await stub.ListHandoffs(
            pb.ListHandoffsRequest(state=handoff_pb2.HANDOFF_STATE_OPEN), metadata=owner
        )
        assert [h.id for h in open_only.handoffs] == [reopened.handoff.id]

        log = await stub.ListAgentActions(pb.ListAgentActionsRequest(), metadata=owner)
        assert [a.kind for a in log.actions] == [
            action_pb2.ACTION_KIND_HANDOFF_REQUESTED,
            action_pb2.ACTION_KIND_HANDOFF_RESOLVED,
            action_pb2.ACTION_KIND_HANDOFF_REQUESTED,
        ]
        assert log.actions[2].id == handoff.request_action_id
        assert log.actions[1].details["handoff_id"] == handoff.id

        for _ in range(200):
            if len(requested) == 2 and len(resolved) == 1:
                break
            await asyncio.sleep(0.05)
        assert [e.handoff.id for e in requested] == [handoff.id, reopened.handoff.id]
        assert [e.handoff.state for e in resolved] == [handoff_pb2.HANDOFF_STATE_RESOLVED]
    finally:
        await client.close()


async def test_request_handoff_is_idempotent_and_checks_the_agent(
    stub: AgentStub, new_owner: NewOwner, new_contact: NewContact
) -> None:
    owner = await new_owner()
    conversation = await _contact_of(new_contact, owner)
    error = await _error(
        stub.RequestHandoff(
            pb.RequestHandoffRequest(
                requested_by=handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL,
                agent_id=str(uuid.uuid4()),
                **conversation,
            ),
            metadata=owner,
        )
    )
    assert reason_of(error) == "AGENT_NOT_FOUND"
    agent = (
        await stub.CreateAgent(
            pb.CreateAgentRequest(agent=agent_pb2.Agent(display_name="A", system_prompt="p")),
            metadata=owner,
        )
    ).agent
    request = pb.RequestHandoffRequest(
        requested_by=handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL,
        agent_id=agent.id,
        reason="hostile message",
        request_id=str(uuid.uuid4()),
        **conversation,
    )
    first = await stub.RequestHandoff(request, metadata=owner)
    retry = await stub.RequestHandoff(request, metadata=owner)
    assert first.created
    assert retry.created
    assert retry.handoff == first.handoff
    assert first.handoff.agent_id == agent.id
    other = await stub.CreateHandoff(pb.CreateHandoffRequest(**conversation), metadata=owner)
    assert not other.created
    assert other.handoff.id == first.handoff.id
    error = await _error(
        stub.RequestHandoff(
            pb.RequestHandoffRequest(
                requested_by=handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL, **conversation
            ),
            metadata=owner,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # only guardrail / owner message


async def test_another_owner_cannot_see_or_resolve_a_handoff(
    stub: AgentStub, new_owner: NewOwner, new_contact: NewContact
) -> None:
    ann, bob = await new_owner(), await new_owner()
    conversation = await _contact_of(new_contact, ann)
    bobs = await _contact_of(new_contact, bob)
    for foreign in (
        conversation,  # Ann's contact, asked by Bob
        {**bobs, "integration_id": conversation["integration_id"]},  # on another integration
        _conversation(),  # nobody's
    ):
        error = await _error(stub.CreateHandoff(pb.CreateHandoffRequest(**foreign), metadata=bob))
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert reason_of(error) == "CONTACT_NOT_FOUND"
    handoff = (
        await stub.CreateHandoff(pb.CreateHandoffRequest(**conversation), metadata=ann)
    ).handoff
    for call in (
        stub.GetHandoff(pb.GetHandoffRequest(handoff_id=handoff.id), metadata=bob),
        stub.ResolveHandoff(pb.ResolveHandoffRequest(handoff_id=handoff.id), metadata=bob),
    ):
        error = await _error(call)
        assert reason_of(error) == "HANDOFF_NOT_FOUND"
    assert (await _control(stub, bob, **conversation)).may_reply  # Bob's conversation is his
    assert not (await _control(stub, ann, **conversation)).may_reply
    got = await stub.GetHandoff(pb.GetHandoffRequest(handoff_id=handoff.id), metadata=ann)
    assert got.handoff.state == handoff_pb2.HANDOFF_STATE_OPEN


def _contact_event(
    owner: Metadata, conversation: dict[str, str], change: str, paused_at: datetime | None
) -> social_events_pb2.ContactUpdated:
    contact = contact_pb2.Contact(
        id=conversation["contact_id"],
        integration_id=conversation["integration_id"],
        agent_paused=paused_at is not None,
    )
    if paused_at is not None:
        contact.agent_pause_time.FromDatetime(paused_at)
    return new_event(
        social_events_pb2.ContactUpdated, owner_id=owner[0][1], contact=contact, change=change
    )


async def _handoffs(stub: AgentStub, owner: Metadata) -> list[handoff_pb2.Handoff]:
    return list((await stub.ListHandoffs(pb.ListHandoffsRequest(), metadata=owner)).handoffs)


async def _until(check: object, stub: AgentStub, owner: Metadata) -> list[handoff_pb2.Handoff]:
    for _ in range(200):
        found = await _handoffs(stub, owner)
        if check(found):  # type: ignore[operator]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("condition never met")


async def test_the_owners_manual_message_pauses_and_resume_hands_back(
    stub: AgentStub, bus: EventBus
) -> None:
    owner = _owner()
    conversation = _conversation()
    paused = _contact_event(owner, conversation, "agent_paused", datetime.now(UTC))
    await bus.publish(paused)
    await bus.publish(paused)  # redelivered: processed once
    found = await _until(lambda hs: len(hs) == 1, stub, owner)
    assert found[0].requested_by == handoff_pb2.HANDOFF_REQUESTER_OWNER_MESSAGE
    assert found[0].state == handoff_pb2.HANDOFF_STATE_OPEN
    assert not (await _control(stub, owner, **conversation)).may_reply

    await bus.publish(_contact_event(owner, conversation, "agent_resumed", None))
    found = await _until(lambda hs: hs[0].state == handoff_pb2.HANDOFF_STATE_RESOLVED, stub, owner)
    assert len(found) == 1
    assert (await _control(stub, owner, **conversation)).may_reply

    # A pause from before the hand-back arrives late: it must not take the conversation again.
    stale = _contact_event(
        owner, conversation, "agent_paused", datetime.now(UTC) - timedelta(minutes=5)
    )
    await bus.publish(stale)
    marker = _conversation()
    await bus.publish(_contact_event(owner, marker, "agent_paused", datetime.now(UTC)))
    found = await _until(
        lambda hs: any(h.contact_id == marker["contact_id"] for h in hs), stub, owner
    )
    assert [h.contact_id for h in found].count(conversation["contact_id"]) == 1
    assert (await _control(stub, owner, **conversation)).may_reply


async def test_control_reports_the_agents_own_blocks(
    stub: AgentStub, new_owner: NewOwner, new_contact: NewContact
) -> None:
    owner = await new_owner()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoweekday()
    agent = (
        await stub.CreateAgent(
            pb.CreateAgentRequest(
                agent=agent_pb2.Agent(
                    display_name="A",
                    system_prompt="p",
                    enabled=True,
                    working_hours=agent_pb2.WorkingHours(
                        windows=[
                            agent_pb2.WorkingWindow(
                                day=tomorrow,  # type: ignore[arg-type]
                                start_time="00:00",
                                end_time="24:00",
                            )
                        ]
                    ),
                )
            ),
            metadata=owner,
        )
    ).agent
    conversation = await _contact_of(new_contact, owner)
    control = await _control(stub, owner, agent_id=agent.id, **conversation)
    assert list(control.blocks) == [handoff_pb2.REPLY_BLOCK_OUTSIDE_WORKING_HOURS]
    expected = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert control.next_window_start_time.ToDatetime(tzinfo=UTC) == expected
    await stub.UpdateAgent(
        pb.UpdateAgentRequest(
            agent=agent_pb2.Agent(id=agent.id),
            update_mask=field_mask_pb2.FieldMask(paths=["working_hours", "enabled"]),
        ),
        metadata=owner,
    )
    control = await _control(stub, owner, agent_id=agent.id, **conversation)
    assert list(control.blocks) == [handoff_pb2.REPLY_BLOCK_AGENT_DISABLED]
    await stub.CreateHandoff(pb.CreateHandoffRequest(**conversation), metadata=owner)
    control = await _control(stub, owner, agent_id=agent.id, **conversation)
    assert list(control.blocks) == [
        handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN,
        handoff_pb2.REPLY_BLOCK_AGENT_DISABLED,
    ]
    assert not control.HasField("next_window_start_time")

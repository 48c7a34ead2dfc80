"""WatchLeads: live changes fanned out across instances, filters, replay, heartbeats, limits and
the explicit end of a stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.leads.v1 import lead_pb2, leads_service_pb2_grpc
from inbetwin.leads.v1 import leads_service_pb2 as pb
from redis.asyncio import Redis

from services.kit.bus import EventBus
from services.kit.server import ServerHandle
from services.stack import Stack
from tests.leads.conftest import (
    StartLeads,
    Stub,
    as_owner,
    eventually,
    lead_of,
    publish,
    settle,
    start_instance,
)
from tests.leads.conversations import Conversation, cold_en, hot_ru, warm_en
from tests.leads.test_owner_api import reason_of

READ_SECONDS = 20.0
EOF: object = grpc.aio.EOF  # type: ignore[attr-defined]  # missing from grpc-stubs


@pytest.fixture(scope="module")
async def watch_server(start_leads: StartLeads) -> ServerHandle:
    """A second instance: what it streams reaches it through the bus, from any instance."""
    return await start_leads(watch_heartbeat_seconds=0.5, watch_resume_margin_seconds=1.0)


@pytest.fixture(scope="module")
async def watch_stub(watch_server: ServerHandle) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{watch_server.port}") as channel:
        yield leads_service_pb2_grpc.LeadsServiceStub(channel)


async def read(call: grpc.aio.UnaryStreamCall) -> pb.WatchLeadsResponse | None:
    """The next message, or None at the end of the stream."""
    message = await asyncio.wait_for(call.read(), READ_SECONDS)
    if message is EOF:
        return None
    assert isinstance(message, pb.WatchLeadsResponse)
    return message


async def next_update(call: grpc.aio.UnaryStreamCall, lead_id: str | None = None) -> pb.LeadUpdated:
    """The next lead_updated (of `lead_id` when given), skipping heartbeats."""

    async def updated() -> pb.LeadUpdated:
        while True:
            message = await read(call)
            assert message is not None
            if message.WhichOneof("event") == "lead_updated":
                if lead_id is None or message.lead_updated.lead.id == lead_id:
                    return message.lead_updated
            else:
                assert message.WhichOneof("event") == "heartbeat"

    return await asyncio.wait_for(updated(), READ_SECONDS)


async def until_heartbeat(call: grpc.aio.UnaryStreamCall) -> pb.StreamHeartbeat:
    while True:
        message = await read(call)
        assert message is not None
        if message.WhichOneof("event") == "heartbeat":
            return message.heartbeat


async def test_changes_stream_live_across_instances(
    stub: Stub, watch_stub: Stub, bus: EventBus
) -> None:
    conversation = warm_en(Conversation())
    owner = as_owner(conversation.owner_id)
    call = watch_stub.WatchLeads(pb.WatchLeadsRequest(), metadata=owner)
    await until_heartbeat(call)  # the stream is open

    await publish(bus, conversation.events)
    first = await next_update(call)
    assert first.cause == lead_pb2.LEAD_CHANGE_CAUSE_CONVERSATION
    assert (first.previous_score, first.previous_stage) == (0, lead_pb2.LEAD_STAGE_UNSPECIFIED)
    assert first.matches_filter
    assert not first.lead.factors  # basic view
    await settle(bus)
    found = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert found is not None

    # An owner's change on the other instance reaches this one through lead.updated.
    await stub.UpdateLead(
        pb.UpdateLeadRequest(
            lead_id=found.lead.id,
            lead=lead_pb2.Lead(notes="Send the portfolio"),
            update_mask=field_mask_pb2.FieldMask(paths=["notes"]),
        ),
        metadata=owner,
    )
    while (
        update := await next_update(call, found.lead.id)
    ).cause != lead_pb2.LEAD_CHANGE_CAUSE_OWNER_UPDATE:
        pass
    assert update.lead.notes == "Send the portfolio"
    assert update.lead.score == found.lead.score
    call.cancel()


async def test_streams_see_only_their_owners_leads_and_filters(
    watch_stub: Stub, bus: EventBus
) -> None:
    owner_id = str(uuid.uuid4())
    hot_watch = watch_stub.WatchLeads(
        pb.WatchLeadsRequest(min_score=70, view=pb.LEAD_VIEW_FULL), metadata=as_owner(owner_id)
    )
    stranger_watch = watch_stub.WatchLeads(
        pb.WatchLeadsRequest(), metadata=as_owner(str(uuid.uuid4()))
    )
    await until_heartbeat(hot_watch)
    await until_heartbeat(stranger_watch)

    cold = cold_en(Conversation(owner_id=owner_id))
    hot = hot_ru(Conversation(owner_id=owner_id))
    await publish(bus, cold.events)
    await publish(bus, hot.events)
    await settle(bus)
    update = await next_update(hot_watch)
    assert update.lead.contact_id == hot.contact_id  # the cold lead never reached 70
    while update.lead.score < 88:
        update = await next_update(hot_watch)
    assert update.matches_filter
    assert len(update.lead.factors) == 5  # full view

    hot.events.clear()
    no = hot.says("Извините, уже не актуально, не пишите мне больше")
    hot.assessed(no, -0.8)
    await publish(bus, hot.events)
    while (update := await next_update(hot_watch)).lead.score >= 70:
        pass
    assert not update.matches_filter  # dropped below the filter: the client removes it
    assert update.previous_score >= 70
    assert update.lead.stage == lead_pb2.LEAD_STAGE_QUALIFIED

    for _ in range(2):  # the stranger only ever sees heartbeats
        assert (await asyncio.wait_for(stranger_watch.read(), READ_SECONDS)).WhichOneof(
            "event"
        ) == "heartbeat"
    hot_watch.cancel()
    stranger_watch.cancel()


async def test_replay_since_time_then_live(stub: Stub, watch_stub: Stub, bus: EventBus) -> None:
    owner_id = str(uuid.uuid4())
    before = datetime.now(UTC)
    conversation = warm_en(Conversation(owner_id=owner_id))
    await publish(bus, conversation.events)
    await settle(bus)
    found = await lead_of(stub, owner_id, conversation.contact_id)
    assert found is not None

    since = pb.WatchLeadsRequest()
    since.since_time.FromDatetime(before)
    call = watch_stub.WatchLeads(since, metadata=as_owner(owner_id))
    replayed = await next_update(call)
    assert replayed.lead.id == found.lead.id
    assert replayed.lead.score == found.lead.score
    assert (replayed.previous_score, replayed.previous_stage) == (
        0,
        lead_pb2.LEAD_STAGE_UNSPECIFIED,
    )
    heartbeat = await until_heartbeat(call)  # replay done, live now
    assert heartbeat.time.ToDatetime(tzinfo=UTC) < datetime.now(UTC)

    later = pb.WatchLeadsRequest()
    later.since_time.FromDatetime(found.lead.update_time.ToDatetime(tzinfo=UTC))
    quiet = watch_stub.WatchLeads(later, metadata=as_owner(owner_id))
    assert (await asyncio.wait_for(quiet.read(), READ_SECONDS)).WhichOneof("event") == "heartbeat"
    call.cancel()
    quiet.cancel()


async def test_too_old_since_time_requires_a_resync(watch_stub: Stub) -> None:
    request = pb.WatchLeadsRequest()
    request.since_time.FromDatetime(datetime.now(UTC) - timedelta(hours=25))
    call = watch_stub.WatchLeads(request, metadata=as_owner(str(uuid.uuid4())))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(raised.value) == "RESYNC_REQUIRED"


async def test_at_most_ten_watches_per_owner(watch_stub: Stub, stub: Stub, infra: Stack) -> None:
    owner_id = str(uuid.uuid4())
    owner = as_owner(owner_id)
    # On the instance with 15-second heartbeats: a slot can only come back by being released.
    open_calls = [stub.WatchLeads(pb.WatchLeadsRequest(), metadata=owner) for _ in range(10)]
    for call in open_calls:
        await asyncio.wait_for(call.initial_metadata(), READ_SECONDS)  # sent once it has a slot
    one_more = watch_stub.WatchLeads(pb.WatchLeadsRequest(), metadata=owner)  # another instance
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await one_more.read()
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(raised.value) == "WATCH_LIMIT_REACHED"

    open_calls.pop().cancel()
    redis = Redis.from_url(infra.redis_url)
    try:

        async def released() -> bool:
            return bool(await redis.zcard(f"leads:watches:{owner_id}") == 9)

        await eventually(released, "the cancelled stream to give its slot back")
    finally:
        await redis.aclose()
    again = watch_stub.WatchLeads(pb.WatchLeadsRequest(), metadata=owner)
    assert (await until_heartbeat(again)).HasField("time")
    for call in [*open_calls, again]:
        call.cancel()


async def test_stream_ends_explicitly_at_its_maximum_length(
    infra: Stack, server: ServerHandle
) -> None:
    short = await start_instance(infra, watch_heartbeat_seconds=0.2, watch_max_seconds=1.0)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{short.port}") as channel:
            call = leads_service_pb2_grpc.LeadsServiceStub(channel).WatchLeads(
                pb.WatchLeadsRequest(), metadata=as_owner(str(uuid.uuid4()))
            )
            messages = [message async for message in call]
    finally:
        await short.stop(0)
    assert messages[-1].WhichOneof("event") == "end"
    assert messages[-1].end.reason == pb.STREAM_END_REASON_MAX_DURATION
    assert messages[-1].end.HasField("resume_time")
    assert {m.WhichOneof("event") for m in messages[:-1]} <= {"heartbeat"}
    assert await call.code() == grpc.StatusCode.OK


async def test_shutdown_ends_open_streams_explicitly(infra: Stack, server: ServerHandle) -> None:
    leaving = await start_instance(infra, watch_heartbeat_seconds=0.2)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{leaving.port}") as channel:
        call = leads_service_pb2_grpc.LeadsServiceStub(channel).WatchLeads(
            pb.WatchLeadsRequest(), metadata=as_owner(str(uuid.uuid4()))
        )
        await until_heartbeat(call)
        stopping = asyncio.create_task(leaving.stop(5.0))
        messages = []
        while (message := await read(call)) is not None:
            messages.append(message)
        await stopping
    assert messages[-1].WhichOneof("event") == "end"
    assert messages[-1].end.reason == pb.STREAM_END_REASON_SERVER_SHUTDOWN

"""The action log and the live activity stream: recording, listing, and WatchAgentActivity
across instances (through NATS), per owner, with replay, heartbeats and explicit ends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2
from inbetwin.agent.v1 import action_pb2, agent_service_pb2_grpc
from inbetwin.agent.v1 import agent_service_pb2 as pb

from services.agent.activity_hub import TOO_SLOW, ActivityHub
from services.agent.watch import WatchLimits, watch
from services.kit.db import create_engine
from services.kit.server import ServerHandle
from services.stack import Stack
from tests.agent.conftest import AgentStub, MakeAgentServer, Metadata, reason_of

Stream = AsyncIterator[pb.WatchAgentActivityResponse]
REPLY = action_pb2.ACTION_KIND_REPLY_SENT
DONE = action_pb2.ACTION_STATUS_SUCCEEDED


def _owner() -> Metadata:
    return (("x-user-id", str(uuid.uuid4())),)


def _reply(text: str, **fields: object) -> action_pb2.AgentAction:
    action = action_pb2.AgentAction(
        kind=action_pb2.ACTION_KIND_REPLY_SENT,
        status=action_pb2.ACTION_STATUS_SUCCEEDED,
        **fields,  # type: ignore[arg-type]
    )
    action.details.update({"text": text})
    return action


async def _log(
    stub: AgentStub, owner: Metadata, text: str, **fields: object
) -> action_pb2.AgentAction:
    response = await stub.CreateAgentAction(
        pb.CreateAgentActionRequest(action=_reply(text, **fields)), metadata=owner
    )
    action: action_pb2.AgentAction = response.action
    return action


async def _next(stream: Stream) -> pb.WatchAgentActivityResponse:
    event: pb.WatchAgentActivityResponse = await asyncio.wait_for(stream.__anext__(), 10)
    return event


async def _next_action(stream: Stream) -> action_pb2.AgentAction:
    while True:
        event = await _next(stream)
        if event.WhichOneof("event") == "action":
            action: action_pb2.AgentAction = event.action
            return action
        assert event.WhichOneof("event") == "heartbeat", event


def _watch(stub: AgentStub, owner: Metadata, **fields: object) -> Stream:
    call = stub.WatchAgentActivity(pb.WatchAgentActivityRequest(**fields), metadata=owner)  # type: ignore[arg-type]
    return call.__aiter__()  # type: ignore[no-any-return]


async def test_record_get_and_list_with_filters_and_pages(stub: AgentStub) -> None:
    owner, other = _owner(), _owner()
    contact = str(uuid.uuid4())
    logged = [
        await _log(stub, owner, f"reply {i}", contact_id=contact if i % 2 else "") for i in range(5)
    ]
    await _log(stub, other, "someone else's")
    got = await stub.GetAgentAction(
        pb.GetAgentActionRequest(action_id=logged[0].id), metadata=owner
    )
    assert got.action == logged[0]
    error = await _error(
        stub.GetAgentAction(pb.GetAgentActionRequest(action_id=logged[0].id), metadata=other)
    )
    assert reason_of(error) == "ACTION_NOT_FOUND"

    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListAgentActions(
            pb.ListAgentActionsRequest(page_size=2, page_token=token), metadata=owner
        )
        seen += [a.id for a in page.actions]
        token = page.next_page_token
        if not token:
            break
    assert seen == [a.id for a in reversed(logged)]  # newest first, only the owner's
    by_contact = await stub.ListAgentActions(
        pb.ListAgentActionsRequest(contact_id=contact), metadata=owner
    )
    assert [a.id for a in by_contact.actions] == [logged[3].id, logged[1].id]
    failed = await stub.ListAgentActions(
        pb.ListAgentActionsRequest(status=action_pb2.ACTION_STATUS_FAILED), metadata=owner
    )
    assert not failed.actions
    start = timestamp_pb2.Timestamp()
    start.FromDatetime(datetime.now(UTC))
    error = await _error(
        stub.ListAgentActions(
            pb.ListAgentActionsRequest(start_time=start, end_time=start), metadata=owner
        )
    )
    assert reason_of(error) == "INVALID_TIME_RANGE"
    error = await _error(
        stub.ListAgentActions(
            pb.ListAgentActionsRequest(contact_id=contact, page_token=page_token_for_all(owner)),
            metadata=owner,
        )
    )
    assert reason_of(error) == "INVALID_PAGE_TOKEN"


def page_token_for_all(owner: Metadata) -> str:
    # A token minted for another filter set is refused: build one through the public API shape.
    from services.agent import page_tokens

    return page_tokens.encode(scope="actions:", key=datetime.now(UTC), row_id=str(uuid.uuid4()))


async def _error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_only_reply_kinds_are_recorded_and_retries_record_once(stub: AgentStub) -> None:
    owner = _owner()
    tool_call = action_pb2.AgentAction(
        kind=action_pb2.ACTION_KIND_TOOL_CALL, status=action_pb2.ACTION_STATUS_SUCCEEDED
    )
    error = await _error(
        stub.CreateAgentAction(pb.CreateAgentActionRequest(action=tool_call), metadata=owner)
    )
    assert reason_of(error) == "ACTION_KIND_NOT_ALLOWED"
    request = pb.CreateAgentActionRequest(action=_reply("hi"), request_id=str(uuid.uuid4()))
    first = await stub.CreateAgentAction(request, metadata=owner)
    again = await stub.CreateAgentAction(request, metadata=owner)
    assert again.action == first.action
    listed = await stub.ListAgentActions(pb.ListAgentActionsRequest(), metadata=owner)
    assert [a.id for a in listed.actions] == [first.action.id]


async def test_watchers_get_their_own_owners_actions_from_any_instance(
    stub: AgentStub, make_agent_server: MakeAgentServer
) -> None:
    other_instance = await make_agent_server()
    ann, bob = _owner(), _owner()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{other_instance.port}") as channel:
        remote = agent_service_pb2_grpc.AgentServiceStub(channel)
        ann_here, ann_there, bob_there = _watch(stub, ann), _watch(remote, ann), _watch(remote, bob)
        for stream in (ann_here, ann_there, bob_there):
            assert (await _next(stream)).WhichOneof("event") == "heartbeat"
        mine = await _log(stub, ann, "for ann")
        theirs = await _log(remote, bob, "for bob")
        assert (await _next_action(ann_here)).id == mine.id
        assert (await _next_action(ann_there)).id == mine.id
        assert (await _next_action(bob_there)).id == theirs.id
        # Nothing of Ann's reached Bob: his next action is his own next one.
        later = await _log(stub, bob, "for bob again")
        assert (await _next_action(bob_there)).id == later.id
        nxt = await _log(stub, ann, "ann again")
        assert (await _next_action(ann_there)).id == nxt.id


async def test_filters_and_replay(stub: AgentStub) -> None:
    owner = _owner()
    contact = str(uuid.uuid4())
    before = timestamp_pb2.Timestamp()
    before.FromDatetime(datetime.now(UTC) - timedelta(seconds=5))
    old = await _log(stub, owner, "before the stream", contact_id=contact)
    await _log(stub, owner, "other contact", contact_id=str(uuid.uuid4()))
    stream = _watch(stub, owner, contact_id=contact, replay_since=before)
    assert (await _next(stream)).WhichOneof("event") == "heartbeat"
    assert (await _next_action(stream)).id == old.id
    await _log(stub, owner, "other contact, live", contact_id=str(uuid.uuid4()))
    error_kind = await stub.CreateAgentAction(
        pb.CreateAgentActionRequest(
            action=action_pb2.AgentAction(
                kind=action_pb2.ACTION_KIND_ERROR,
                status=action_pb2.ACTION_STATUS_FAILED,
                contact_id=contact,
                reason="MODEL_UNAVAILABLE",
            )
        ),
        metadata=owner,
    )
    assert (await _next_action(stream)).id == error_kind.action.id
    kinds_only = _watch(stub, owner, kinds=[action_pb2.ACTION_KIND_ERROR])
    assert (await _next(kinds_only)).WhichOneof("event") == "heartbeat"
    await _log(stub, owner, "a reply: filtered out")
    again = await stub.CreateAgentAction(
        pb.CreateAgentActionRequest(
            action=action_pb2.AgentAction(
                kind=action_pb2.ACTION_KIND_ERROR, status=action_pb2.ACTION_STATUS_FAILED
            )
        ),
        metadata=owner,
    )
    assert (await _next_action(kinds_only)).id == again.action.id


async def test_watch_for_another_owners_agent_is_not_found(stub: AgentStub) -> None:
    stream = _watch(stub, _owner(), agent_id=str(uuid.uuid4()))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _next(stream)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(caught.value) == "AGENT_NOT_FOUND"


async def test_heartbeats_and_end_after_max_duration(make_agent_server: MakeAgentServer) -> None:
    server = await make_agent_server(watch_heartbeat_seconds=0.1, watch_max_duration_seconds=0.5)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stream = _watch(agent_service_pb2_grpc.AgentServiceStub(channel), _owner())
        kinds = []
        while True:
            event = await _next(stream)
            kinds.append(event.WhichOneof("event"))
            if kinds[-1] == "end":
                assert event.end.reason == pb.STREAM_END_REASON_MAX_DURATION
                break
        assert kinds.count("heartbeat") >= 2
        assert set(kinds) == {"heartbeat", "end"}
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_shutdown_ends_streams_explicitly(make_agent_server: MakeAgentServer) -> None:
    server: ServerHandle = await make_agent_server()
    owner = _owner()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        remote = agent_service_pb2_grpc.AgentServiceStub(channel)
        stream = _watch(remote, owner)
        assert (await _next(stream)).WhichOneof("event") == "heartbeat"
        logged = await _log(remote, owner, "last words")
        assert (await _next_action(stream)).id == logged.id
        stopping = asyncio.create_task(server.stop(1.0))
        end = await _next(stream)
        assert end.WhichOneof("event") == "end"
        assert end.end.reason == pb.STREAM_END_REASON_SERVER_SHUTDOWN
        assert end.end.last_action_time == logged.create_time
        await stopping


async def test_a_subscriber_that_falls_behind_gets_error_then_end(infra: Stack) -> None:
    hub = ActivityHub(queue_size=2)
    engine = create_engine(infra.database_url("agent"), pool_size=1)
    owner = str(uuid.uuid4())
    limits = WatchLimits(
        heartbeat_seconds=30,
        max_duration_seconds=60,
        replay_max_actions=10,
        replay_max_age_seconds=60,
    )
    try:
        stream = watch(
            hub=hub,
            engine=engine,
            limits=limits,
            owner_id=owner,
            request=pb.WatchAgentActivityRequest(),
        )
        first = pb.WatchAgentActivityResponse.FromString(await stream.__anext__())
        assert first.WhichOneof("event") == "heartbeat"
        delivered = [
            hub.deliver(
                owner, action_pb2.AgentAction(id=str(uuid.uuid4()), kind=REPLY, status=DONE)
            )
            for _ in range(3)
        ]
        assert delivered == [1, 1, 0]  # the third overflowed the queue of two
        assert hub.subscribers(owner) == 0
        events = [pb.WatchAgentActivityResponse.FromString(p) async for p in stream]
        assert [e.WhichOneof("event") for e in events] == ["error", "end"]
        assert events[0].error.reason == TOO_SLOW
        assert events[1].end.reason == pb.STREAM_END_REASON_ERROR
    finally:
        await engine.dispose()


def test_hub_serializes_once_per_event_for_every_subscriber() -> None:
    async def run() -> None:
        hub = ActivityHub(queue_size=10)
        owner, stranger = str(uuid.uuid4()), str(uuid.uuid4())
        subscribers = [hub.subscribe(owner) for _ in range(3)]
        outsider = hub.subscribe(stranger)
        assert (
            hub.deliver(
                owner, action_pb2.AgentAction(id=str(uuid.uuid4()), kind=REPLY, status=DONE)
            )
            == 3
        )
        payloads = [s.queue.get_nowait() for s in subscribers]
        assert payloads[0] is payloads[1] is payloads[2]  # the same object: serialized once
        assert outsider.queue.empty()

    asyncio.run(run())

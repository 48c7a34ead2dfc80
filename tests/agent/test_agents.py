"""Agents CRUD with field masks, plan limits, idempotent creates, owner isolation, and the
configuration cache seen by a second instance (real auth, Postgres, Redis, NATS)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import agent_pb2, agent_service_pb2_grpc, handoff_pb2, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb

from tests.agent.conftest import AgentStub, MakeAgentServer, Metadata, NewOwner, reason_of


def _agent(**fields: object) -> agent_pb2.Agent:
    values: dict[str, object] = {"display_name": "Sales", "system_prompt": "Be helpful."}
    values.update(fields)
    return agent_pb2.Agent(**values)  # type: ignore[arg-type]


async def _create(stub: AgentStub, owner: Metadata, **fields: object) -> agent_pb2.Agent:
    response = await stub.CreateAgent(pb.CreateAgentRequest(agent=_agent(**fields)), metadata=owner)
    agent: agent_pb2.Agent = response.agent
    return agent


async def _error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_create_get_update_delete(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    created = await _create(
        stub,
        owner,
        description="Courses",
        tone=agent_pb2.TONE_FRIENDLY,
        language="ru",
        generation=agent_pb2.GenerationSettings(temperature=0.2, max_output_tokens=300),
        working_hours=agent_pb2.WorkingHours(
            time_zone="Europe/Moscow",
            windows=[
                agent_pb2.WorkingWindow(
                    day=agent_pb2.DAY_OF_WEEK_MONDAY, start_time="09:00", end_time="18:00"
                )
            ],
        ),
        builtin_tools=[tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO],
        id="00000000-0000-0000-0000-000000000000",  # output-only: ignored
    )
    assert created.id != "00000000-0000-0000-0000-000000000000"
    uuid.UUID(created.id)
    assert created.enabled is False
    assert created.create_time.seconds > 0
    got = (await stub.GetAgent(pb.GetAgentRequest(agent_id=created.id), metadata=owner)).agent
    assert got == created

    patch = agent_pb2.Agent(
        id=created.id,
        enabled=True,
        display_name="ignored: not in the mask",
        generation=agent_pb2.GenerationSettings(temperature=1.5, max_output_tokens=999),
    )
    updated = (
        await stub.UpdateAgent(
            pb.UpdateAgentRequest(
                agent=patch,
                update_mask=field_mask_pb2.FieldMask(paths=["enabled", "generation.temperature"]),
            ),
            metadata=owner,
        )
    ).agent
    assert updated.enabled is True
    assert updated.display_name == "Sales"
    assert updated.generation.temperature == pytest.approx(1.5)
    assert updated.generation.max_output_tokens == 300  # sibling of a masked sub-field kept
    assert updated.working_hours == created.working_hours
    assert updated.update_time.ToDatetime() >= created.update_time.ToDatetime()

    await stub.DeleteAgent(pb.DeleteAgentRequest(agent_id=created.id), metadata=owner)
    error = await _error(stub.GetAgent(pb.GetAgentRequest(agent_id=created.id), metadata=owner))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(error) == "AGENT_NOT_FOUND"


async def test_update_mask_rejects_output_only_and_unknown_paths(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    agent = await _create(stub, owner)
    for paths in (["id"], ["create_time"], ["no_such_field"], ["generation.nope"]):
        error = await _error(
            stub.UpdateAgent(
                pb.UpdateAgentRequest(
                    agent=agent_pb2.Agent(id=agent.id),
                    update_mask=field_mask_pb2.FieldMask(paths=paths),
                ),
                metadata=owner,
            )
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, paths
        assert reason_of(error) == "FIELD_NOT_UPDATABLE", paths


async def test_masked_field_breaking_its_rule_is_rejected_but_unmasked_is_not(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    agent = await _create(stub, owner)
    error = await _error(
        stub.UpdateAgent(
            pb.UpdateAgentRequest(
                agent=agent_pb2.Agent(id=agent.id, system_prompt=""),
                update_mask=field_mask_pb2.FieldMask(paths=["system_prompt"]),
            ),
            metadata=owner,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    ok = await stub.UpdateAgent(
        pb.UpdateAgentRequest(
            agent=agent_pb2.Agent(id=agent.id, reply_delay_seconds=5),
            update_mask=field_mask_pb2.FieldMask(paths=["reply_delay_seconds"]),
        ),
        metadata=owner,
    )
    assert ok.agent.reply_delay_seconds == 5
    assert ok.agent.system_prompt == "Be helpful."


@pytest.mark.parametrize(
    "hours",
    [
        agent_pb2.WorkingHours(
            time_zone="Mars/Olympus",
            windows=[
                agent_pb2.WorkingWindow(
                    day=agent_pb2.DAY_OF_WEEK_MONDAY, start_time="09:00", end_time="10:00"
                )
            ],
        ),
        agent_pb2.WorkingHours(
            windows=[
                agent_pb2.WorkingWindow(
                    day=agent_pb2.DAY_OF_WEEK_MONDAY, start_time="10:00", end_time="09:00"
                )
            ]
        ),
        agent_pb2.WorkingHours(
            windows=[
                agent_pb2.WorkingWindow(
                    day=agent_pb2.DAY_OF_WEEK_TUESDAY, start_time="09:00", end_time="12:00"
                ),
                agent_pb2.WorkingWindow(
                    day=agent_pb2.DAY_OF_WEEK_TUESDAY, start_time="11:00", end_time="13:00"
                ),
            ]
        ),
    ],
)
async def test_invalid_working_hours(
    stub: AgentStub, new_owner: NewOwner, hours: agent_pb2.WorkingHours
) -> None:
    owner = await new_owner()
    error = await _error(_create(stub, owner, working_hours=hours))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(error) == "INVALID_WORKING_HOURS"


async def test_pipeline_rejects_a_bad_agent_with_field_violations(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    error = await _error(_create(stub, owner, display_name="", model="bad model!"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_free_plan_allows_one_agent_and_retries_are_idempotent(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    request_id = str(uuid.uuid4())
    request = pb.CreateAgentRequest(agent=_agent(), request_id=request_id)
    first = (await stub.CreateAgent(request, metadata=owner)).agent
    retried = (await stub.CreateAgent(request, metadata=owner)).agent
    assert retried == first
    error = await _error(_create(stub, owner, display_name="Second"))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(error) == "AGENT_LIMIT_REACHED"
    listed = await stub.ListAgents(pb.ListAgentsRequest(), metadata=owner)
    assert [a.id for a in listed.agents] == [first.id]


async def test_concurrent_creates_never_exceed_the_plan(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner("pro")  # 3 agents
    results = await asyncio.gather(
        *(_create(stub, owner, display_name=f"A{i}") for i in range(6)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, agent_pb2.Agent)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(created) == 3
    assert len(refused) == 3
    assert {reason_of(e) for e in refused} == {"AGENT_LIMIT_REACHED"}


async def test_list_pages_and_filters(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner("business")
    integration = str(uuid.uuid4())
    ids = [
        (await _create(stub, owner, display_name=f"A{i}", enabled=i % 2 == 0)).id for i in range(5)
    ]
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListAgents(
            pb.ListAgentsRequest(page_size=2, page_token=token), metadata=owner
        )
        seen += [a.id for a in page.agents]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    enabled = await stub.ListAgents(pb.ListAgentsRequest(enabled_only=True), metadata=owner)
    assert [a.id for a in enabled.agents] == ids[0::2]
    by_integration = await stub.ListAgents(
        pb.ListAgentsRequest(integration_id=integration), metadata=owner
    )
    assert [a.id for a in by_integration.agents] == ids  # each serves every integration
    error = await _error(
        stub.ListAgents(
            pb.ListAgentsRequest(enabled_only=True, page_token="bm90LWEtdG9rZW4="), metadata=owner
        )
    )
    assert reason_of(error) == "INVALID_PAGE_TOKEN"


async def test_one_owner_never_sees_or_touches_another_owners_agent(
    stub: AgentStub, new_owner: NewOwner
) -> None:
    ann, bob = await new_owner(), await new_owner()
    agent = await _create(stub, ann)
    calls = [
        stub.GetAgent(pb.GetAgentRequest(agent_id=agent.id), metadata=bob),
        stub.UpdateAgent(
            pb.UpdateAgentRequest(
                agent=agent_pb2.Agent(id=agent.id, enabled=True),
                update_mask=field_mask_pb2.FieldMask(paths=["enabled"]),
            ),
            metadata=bob,
        ),
        stub.DeleteAgent(pb.DeleteAgentRequest(agent_id=agent.id), metadata=bob),
    ]
    for call in calls:
        error = await _error(call)
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert reason_of(error) == "AGENT_NOT_FOUND"
    assert not (await stub.ListAgents(pb.ListAgentsRequest(), metadata=bob)).agents
    still = (await stub.GetAgent(pb.GetAgentRequest(agent_id=agent.id), metadata=ann)).agent
    assert still.enabled is False


async def test_unknown_references_are_not_found(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    error = await _error(_create(stub, owner, tool_ids=[str(uuid.uuid4())]))
    assert reason_of(error) == "TOOL_NOT_FOUND"
    error = await _error(
        _create(
            stub,
            owner,
            builtin_settings=agent_pb2.BuiltinToolSettings(task_connection_id=str(uuid.uuid4())),
        )
    )
    assert reason_of(error) == "CONNECTION_NOT_FOUND"


async def test_requests_without_a_caller_are_unauthenticated(stub: AgentStub) -> None:
    error = await _error(stub.ListAgents(pb.ListAgentsRequest()))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_change_reaches_another_instance_through_the_event(
    stub: AgentStub, new_owner: NewOwner, make_agent_server: MakeAgentServer
) -> None:
    # The second instance keeps its own copies for an hour: only the event can refresh them.
    other = await make_agent_server(config_local_ttl_seconds=3600.0)
    owner = await new_owner()
    agent = await _create(stub, owner)
    control_request = pb.GetConversationControlRequest(
        integration_id=str(uuid.uuid4()), contact_id=str(uuid.uuid4()), agent_id=agent.id
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{other.port}") as channel:
        other_stub = agent_service_pb2_grpc.AgentServiceStub(channel)
        before = await other_stub.GetConversationControl(control_request, metadata=owner)
        assert list(before.control.blocks) == [handoff_pb2.REPLY_BLOCK_AGENT_DISABLED]
        await stub.UpdateAgent(
            pb.UpdateAgentRequest(
                agent=agent_pb2.Agent(id=agent.id, enabled=True),
                update_mask=field_mask_pb2.FieldMask(paths=["enabled"]),
            ),
            metadata=owner,
        )
        for _ in range(200):
            after = await other_stub.GetConversationControl(control_request, metadata=owner)
            if after.control.may_reply:
                break
            await asyncio.sleep(0.05)
        assert after.control.may_reply, "the second instance never saw the change"

"""ExecuteTool with the built-in tools against their real or stand-in backends: save_user_info
(Postgres + event), call_operator (handoffs), create_task (Notion and Asana stand-ins),
schedule_event (a real Radicale CalDAV server and the Google Calendar stand-in); rejections,
idempotency by call_id, and the action log of every call."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import nats
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import action_pb2, agent_pb2, agent_service_pb2_grpc, handoff_pb2, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb
from inbetwin.events.v1 import agent_events_pb2

from services.kit.events import subject_of
from services.stack import Stack
from tests.agent.conftest import AgentStub, MakeAgentServer, Metadata, NewOwner, reason_of
from tests.standins.asana import AsanaStandIn
from tests.standins.google_calendar import GoogleCalendarStandIn
from tests.standins.notion import NotionStandIn

CALDAV_USER, CALDAV_PASSWORD = "ann", "radicale-pass"


@pytest.fixture(scope="module")
def notion() -> Iterator[NotionStandIn]:
    with NotionStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def asana() -> Iterator[AsanaStandIn]:
    with AsanaStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleCalendarStandIn]:
    with GoogleCalendarStandIn() as standin:
        yield standin


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Radicale CalDAV server; yields the URL of a calendar of user `ann`."""
    root = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    (root / "users").write_text(f"{CALDAV_USER}:{CALDAV_PASSWORD}\n")
    config = root / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\n"
        "htpasswd_encryption = plain\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
        "[rights]\ntype = owner_only\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "log").open("w"),
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/{CALDAV_USER}/calendar/"
        auth = (CALDAV_USER, CALDAV_PASSWORD)
        for _ in range(200):
            try:
                response = httpx.request("MKCALENDAR", url, auth=auth, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"radicale did not start: {(root / 'log').read_text()}")
        assert response.status_code == 201, response.text
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
async def tools_stub(
    make_agent_server: MakeAgentServer,
    notion: NotionStandIn,
    asana: AsanaStandIn,
    google: GoogleCalendarStandIn,
) -> AsyncIterator[AgentStub]:
    server = await make_agent_server(
        notion_api_base=notion.base_url,
        asana_api_base=asana.base_url,
        google_calendar_api_base=google.api_base,
        google_token_url=google.token_url,
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield agent_service_pb2_grpc.AgentServiceStub(channel)


async def _agent(
    stub: AgentStub, owner: Metadata, *builtins: int, **fields: Any
) -> agent_pb2.Agent:
    response = await stub.CreateAgent(
        pb.CreateAgentRequest(
            agent=agent_pb2.Agent(
                display_name="Tools",
                system_prompt="p",
                builtin_tools=builtins,  # type: ignore[arg-type]
                **fields,
            )
        ),
        metadata=owner,
    )
    agent: agent_pb2.Agent = response.agent
    return agent


def _call(agent: agent_pb2.Agent, name: str, args: Any, **fields: Any) -> pb.ExecuteToolRequest:
    values: dict[str, Any] = {
        "agent_id": agent.id,
        "integration_id": str(uuid.uuid4()),
        "contact_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "tool_name": name,
        "arguments_json": args if isinstance(args, str) else json.dumps(args),
        "call_id": f"{uuid.uuid4()}:call_1",
    }
    values.update(fields)
    return pb.ExecuteToolRequest(**values)


def test_builtin_tool_schemas_are_valid_json_schemas() -> None:
    from jsonschema import Draft202012Validator

    from services.agent.tools.builtins import BUILTINS

    for builtin in BUILTINS:
        Draft202012Validator.check_schema(builtin.schema)


async def test_list_builtins_and_the_toolset(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    listed = await stub.ListBuiltinTools(pb.ListBuiltinToolsRequest(), metadata=owner)
    assert [t.name for t in listed.builtin_tools] == [
        "save_user_info",
        "create_task",
        "schedule_event",
        "call_operator",
    ]
    assert listed.builtin_tools[1].connection_providers == [
        tool_pb2.CONNECTION_PROVIDER_NOTION,
        tool_pb2.CONNECTION_PROVIDER_ASANA,
    ]
    agent = await _agent(
        stub, owner, tool_pb2.BUILTIN_TOOL_CALL_OPERATOR, tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO
    )
    toolset = await stub.GetAgentToolset(
        pb.GetAgentToolsetRequest(agent_id=agent.id), metadata=owner
    )
    assert [t.name for t in toolset.tools] == ["save_user_info", "call_operator"]
    assert toolset.tools[1].parameters["required"] == ["reason"]


async def test_refused_calls_are_results_and_logged(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    agent = await _agent(stub, owner, tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO)
    cases = [
        ("send_bitcoin", {}, "TOOL_UNKNOWN", tool_pb2.TOOL_KIND_UNSPECIFIED),
        ("call_operator", {"reason": "x"}, "TOOL_NOT_ALLOWED", tool_pb2.TOOL_KIND_BUILTIN),
        ("save_user_info", "{not json", "INVALID_TOOL_ARGUMENTS", tool_pb2.TOOL_KIND_BUILTIN),
        ("save_user_info", "[1, 2]", "INVALID_TOOL_ARGUMENTS", tool_pb2.TOOL_KIND_BUILTIN),
        (
            "save_user_info",
            {"shoe_size": "42"},
            "INVALID_TOOL_ARGUMENTS",
            tool_pb2.TOOL_KIND_BUILTIN,
        ),
        ("save_user_info", {}, "INVALID_TOOL_ARGUMENTS", tool_pb2.TOOL_KIND_BUILTIN),
    ]
    for name, args, reason, kind in cases:
        result = await stub.ExecuteTool(_call(agent, name, args), metadata=owner)
        assert result.status == action_pb2.ACTION_STATUS_REJECTED, name
        assert pb.ErrorReason.Name(result.error_reason) == f"ERROR_REASON_{reason}"
        assert result.error_message
        assert result.tool_kind == kind
        logged = await stub.GetAgentAction(
            pb.GetAgentActionRequest(action_id=result.action_id), metadata=owner
        )
        assert logged.action.status == action_pb2.ACTION_STATUS_REJECTED
        assert logged.action.reason == reason
        assert logged.action.tool_name == name
    no_contact = await stub.ExecuteTool(
        _call(agent, "save_user_info", {"name": "Ivan"}, contact_id=""), metadata=owner
    )
    assert pb.ErrorReason.Name(no_contact.error_reason) == "ERROR_REASON_INVALID_TOOL_ARGUMENTS"
    stranger = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ExecuteTool(_call(agent, "save_user_info", {"name": "x"}), metadata=stranger)
    assert reason_of(caught.value) == "AGENT_NOT_FOUND"


async def test_save_user_info_merges_publishes_and_replays(
    stub: AgentStub, new_owner: NewOwner, infra: Stack
) -> None:
    owner = await new_owner()
    agent = await _agent(stub, owner, tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO)
    contact = str(uuid.uuid4())
    saved: list[agent_events_pb2.UserInfoSaved] = []
    client = await nats.connect(infra.nats_url)

    async def on_saved(msg: Any) -> None:
        event = agent_events_pb2.UserInfoSaved.FromString(msg.data)
        if event.contact_id == contact:
            saved.append(event)

    await client.subscribe(subject_of(agent_events_pb2.UserInfoSaved), cb=on_saved)
    watch = stub.WatchAgentActivity(pb.WatchAgentActivityRequest(), metadata=owner).__aiter__()
    try:
        assert (await watch.__anext__()).WhichOneof("event") == "heartbeat"
        first = _call(
            agent, "save_user_info", {"name": "Ivan", "notes": "wants a demo"}, contact_id=contact
        )
        result = await stub.ExecuteTool(first, metadata=owner)
        assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED, result
        assert json.loads(result.result_json)["facts"] == {"name": "Ivan", "notes": "wants a demo"}
        second = await stub.ExecuteTool(
            _call(
                agent,
                "save_user_info",
                {"phone": "+7 900 000-00-00", "notes": "budget approved"},
                contact_id=contact,
            ),
            metadata=owner,
        )
        facts = json.loads(second.result_json)["facts"]
        assert facts == {
            "name": "Ivan",
            "phone": "+7 900 000-00-00",
            "notes": "wants a demo\nbudget approved",
        }
        replay = await stub.ExecuteTool(first, metadata=owner)
        assert replay.replayed
        assert replay.action_id == result.action_id
        assert replay.result_json == result.result_json
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ExecuteTool(
                _call(agent, "save_user_info", {"name": "Other"}, call_id=first.call_id),
                metadata=owner,
            )
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert reason_of(caught.value) == "CALL_ID_REUSED"

        statuses: list[tuple[str, int]] = []
        while len(statuses) < 4:
            event = await asyncio.wait_for(watch.__anext__(), 10)
            if event.WhichOneof("event") == "action":
                statuses.append((event.action.id, event.action.status))
        assert statuses[0] == (result.action_id, action_pb2.ACTION_STATUS_STARTED)
        assert statuses[1] == (result.action_id, action_pb2.ACTION_STATUS_SUCCEEDED)
        for _ in range(200):
            if len(saved) >= 2:
                break
            await asyncio.sleep(0.05)
        assert [dict(e.facts) for e in saved] == [
            {"name": "Ivan", "notes": "wants a demo"},
            facts,
        ]
        assert saved[0].source_message_id == first.message_id
        log = await stub.ListAgentActions(
            pb.ListAgentActionsRequest(kind=action_pb2.ACTION_KIND_TOOL_CALL), metadata=owner
        )
        assert len(log.actions) == 2  # the replay recorded nothing
        assert log.actions[1].details["arguments"]["name"] == "Ivan"
        assert log.actions[1].details["result"]["facts"]["name"] == "Ivan"
        assert log.actions[1].HasField("duration")
    finally:
        await client.close()


async def test_dry_run_touches_nothing(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    agent = await _agent(stub, owner, tool_pb2.BUILTIN_TOOL_CALL_OPERATOR)
    call = _call(agent, "call_operator", {"reason": "test"}, dry_run=True)
    result = await stub.ExecuteTool(call, metadata=owner)
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED
    assert result.simulated
    control = await stub.GetConversationControl(
        pb.GetConversationControlRequest(
            integration_id=call.integration_id, contact_id=call.contact_id
        ),
        metadata=owner,
    )
    assert control.control.may_reply


async def test_call_operator_opens_one_handoff(stub: AgentStub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    agent = await _agent(stub, owner, tool_pb2.BUILTIN_TOOL_CALL_OPERATOR)
    call = _call(agent, "call_operator", {"reason": "wants a human"})
    result = await stub.ExecuteTool(call, metadata=owner)
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED
    assert result.handoff.state == handoff_pb2.HANDOFF_STATE_OPEN
    assert result.handoff.requested_by == handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL
    assert result.handoff.agent_id == agent.id
    assert result.handoff.reason == "wants a human"
    again = await stub.ExecuteTool(
        _call(
            agent,
            "call_operator",
            {"reason": "again"},
            integration_id=call.integration_id,
            contact_id=call.contact_id,
        ),
        metadata=owner,
    )
    assert again.handoff.id == result.handoff.id
    assert json.loads(again.result_json)["already_open"] is True
    control = await stub.GetConversationControl(
        pb.GetConversationControlRequest(
            integration_id=call.integration_id, contact_id=call.contact_id, agent_id=agent.id
        ),
        metadata=owner,
    )
    assert control.control.blocks[0] == handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN


async def _connection(stub: AgentStub, owner: Metadata, **config: Any) -> tool_pb2.ToolConnection:
    response = await stub.CreateToolConnection(
        pb.CreateToolConnectionRequest(
            tool_connection=tool_pb2.ToolConnection(display_name="ws", **config)
        ),
        metadata=owner,
    )
    connection: tool_pb2.ToolConnection = response.tool_connection
    return connection


async def test_create_task_in_notion_and_asana(
    tools_stub: AgentStub, new_owner: NewOwner, notion: NotionStandIn, asana: AsanaStandIn
) -> None:
    owner = await new_owner("pro")
    agent = await _agent(tools_stub, owner, tool_pb2.BUILTIN_TOOL_CREATE_TASK)
    missing = await tools_stub.ExecuteTool(
        _call(agent, "create_task", {"title": "t"}), metadata=owner
    )
    assert pb.ErrorReason.Name(missing.error_reason) == "ERROR_REASON_CONNECTION_MISSING"
    assert missing.status == action_pb2.ACTION_STATUS_FAILED

    token = f"ntn_{uuid.uuid4().hex}"
    database = notion.add_database(token)
    refused = await _connection(
        tools_stub,
        owner,
        notion=tool_pb2.NotionConnection(api_token="ntn_wrong", database_id=database),
    )
    assert refused.status == tool_pb2.CONNECTION_STATUS_AUTH_FAILED
    connection = await _connection(
        tools_stub, owner, notion=tool_pb2.NotionConnection(api_token=token, database_id=database)
    )
    assert connection.status == tool_pb2.CONNECTION_STATUS_READY
    assert connection.provider == tool_pb2.CONNECTION_PROVIDER_NOTION
    assert connection.notion.api_token == ""  # never returned
    got = await tools_stub.GetToolConnection(
        pb.GetToolConnectionRequest(tool_connection_id=connection.id), metadata=owner
    )
    assert got.tool_connection == connection
    result = await tools_stub.ExecuteTool(
        _call(
            agent,
            "create_task",
            {"title": "Call Ivan back", "description": "about pricing", "due_date": "2030-01-02"},
        ),
        metadata=owner,
    )
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED, result
    page = notion.pages[-1]
    assert page["properties"]["Task"]["title"][0]["text"]["content"] == "Call Ivan back"
    assert page["properties"]["Due"]["date"]["start"] == "2030-01-02"
    assert json.loads(result.result_json)["task_id"] == page["id"]

    asana_token = f"1/{uuid.uuid4().hex}"
    workspace, project = asana.add_workspace(asana_token)
    other = await _agent(
        tools_stub,
        owner,
        tool_pb2.BUILTIN_TOOL_CREATE_TASK,
        builtin_settings=agent_pb2.BuiltinToolSettings(task_connection_id=""),
    )
    asana_connection = await _connection(
        tools_stub,
        owner,
        asana=tool_pb2.AsanaConnection(
            access_token=asana_token, workspace_gid=workspace, project_gid=project
        ),
    )
    assert asana_connection.status == tool_pb2.CONNECTION_STATUS_READY
    # The most recent task connection (Asana) is used when the agent names none.
    result = await tools_stub.ExecuteTool(
        _call(other, "create_task", {"title": "Send the offer"}), metadata=owner
    )
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED, result
    assert asana.tasks[-1]["name"] == "Send the offer"
    assert asana.tasks[-1]["projects"] == [project]
    listed = await tools_stub.ListToolConnections(pb.ListToolConnectionsRequest(), metadata=owner)
    assert [c.id for c in listed.tool_connections] == [
        refused.id,
        connection.id,
        asana_connection.id,
    ]
    stranger = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tools_stub.GetToolConnection(
            pb.GetToolConnectionRequest(tool_connection_id=connection.id), metadata=stranger
        )
    assert reason_of(caught.value) == "CONNECTION_NOT_FOUND"


def _next_monday_at(hour: int) -> datetime:
    now = datetime.now(UTC)
    days = (7 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


MONDAY_9_TO_18 = agent_pb2.WorkingHours(
    time_zone="UTC",
    windows=[
        agent_pb2.WorkingWindow(
            day=agent_pb2.DAY_OF_WEEK_MONDAY, start_time="09:00", end_time="18:00"
        )
    ],
)


async def _schedule(
    stub: AgentStub, owner: Metadata, agent: agent_pb2.Agent, start: datetime
) -> pb.ExecuteToolResponse:
    response: pb.ExecuteToolResponse = await stub.ExecuteTool(
        _call(
            agent,
            "schedule_event",
            {"title": "Demo", "start_time": start.isoformat(), "duration_minutes": 60},
        ),
        metadata=owner,
    )
    return response


async def test_schedule_event_on_a_real_caldav_server(
    tools_stub: AgentStub, new_owner: NewOwner, radicale: str
) -> None:
    owner = await new_owner()
    bad = await _connection(
        tools_stub,
        owner,
        caldav=tool_pb2.CalDavConnection(
            calendar_url=radicale, username=CALDAV_USER, password="nope"
        ),
    )
    assert bad.status == tool_pb2.CONNECTION_STATUS_AUTH_FAILED
    connection = await _connection(
        tools_stub,
        owner,
        caldav=tool_pb2.CalDavConnection(
            calendar_url=radicale, username=CALDAV_USER, password=CALDAV_PASSWORD
        ),
    )
    assert connection.status == tool_pb2.CONNECTION_STATUS_READY, connection.status_message
    agent = await _agent(
        tools_stub,
        owner,
        tool_pb2.BUILTIN_TOOL_SCHEDULE_EVENT,
        working_hours=MONDAY_9_TO_18,
        builtin_settings=agent_pb2.BuiltinToolSettings(calendar_connection_id=connection.id),
    )
    slot = _next_monday_at(10) + timedelta(days=7 * (uuid.uuid4().int % 50))
    booked = await _schedule(tools_stub, owner, agent, slot)
    assert booked.status == action_pb2.ACTION_STATUS_SUCCEEDED, booked
    event_id = json.loads(booked.result_json)["event_id"]
    async with httpx.AsyncClient(auth=(CALDAV_USER, CALDAV_PASSWORD)) as client:
        stored = await client.get(f"{radicale}{event_id}.ics")
    assert stored.status_code == 200
    assert "SUMMARY:Demo" in stored.text
    overlapping = await _schedule(tools_stub, owner, agent, slot + timedelta(minutes=30))
    assert pb.ErrorReason.Name(overlapping.error_reason) == "ERROR_REASON_SLOT_UNAVAILABLE"
    after = await _schedule(tools_stub, owner, agent, slot + timedelta(hours=1))
    assert after.status == action_pb2.ACTION_STATUS_SUCCEEDED, after
    late = await _schedule(tools_stub, owner, agent, slot.replace(hour=17, minute=30))
    assert pb.ErrorReason.Name(late.error_reason) == "ERROR_REASON_SLOT_OUTSIDE_WORKING_HOURS"
    assert late.status == action_pb2.ACTION_STATUS_REJECTED


async def test_schedule_event_on_google_calendar(
    tools_stub: AgentStub, new_owner: NewOwner, google: GoogleCalendarStandIn
) -> None:
    owner = await new_owner()
    key = google.add_service_account()
    calendar_id = google.share_calendar(key)
    unshared = await _connection(
        tools_stub,
        owner,
        google_calendar=tool_pb2.GoogleCalendarConnection(
            service_account_key_json=google.add_service_account(), calendar_id=calendar_id
        ),
    )
    assert unshared.status == tool_pb2.CONNECTION_STATUS_AUTH_FAILED
    connection = await _connection(
        tools_stub,
        owner,
        google_calendar=tool_pb2.GoogleCalendarConnection(
            service_account_key_json=key, calendar_id=calendar_id
        ),
    )
    assert connection.status == tool_pb2.CONNECTION_STATUS_READY, connection.status_message
    assert connection.google_calendar.service_account_email == json.loads(key)["client_email"]
    assert connection.google_calendar.service_account_key_json == ""
    agent = await _agent(
        tools_stub,
        owner,
        tool_pb2.BUILTIN_TOOL_SCHEDULE_EVENT,
        working_hours=MONDAY_9_TO_18,
        builtin_settings=agent_pb2.BuiltinToolSettings(calendar_connection_id=connection.id),
    )
    slot = _next_monday_at(11)
    booked = await _schedule(tools_stub, owner, agent, slot)
    assert booked.status == action_pb2.ACTION_STATUS_SUCCEEDED, booked
    assert google.events[calendar_id][0]["summary"] == "Demo"
    taken = await _schedule(tools_stub, owner, agent, slot)
    assert pb.ErrorReason.Name(taken.error_reason) == "ERROR_REASON_SLOT_UNAVAILABLE"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tools_stub.CreateToolConnection(
            pb.CreateToolConnectionRequest(
                tool_connection=tool_pb2.ToolConnection(
                    display_name="g",
                    google_calendar=tool_pb2.GoogleCalendarConnection(
                        service_account_key_json="{}", calendar_id=calendar_id
                    ),
                )
            ),
            metadata=owner,
        )
    assert reason_of(caught.value) == "CONNECTION_CREDENTIALS_MISSING"


async def test_simultaneous_bookings_of_one_slot_give_it_to_one_caller(
    tools_stub: AgentStub, new_owner: NewOwner, google: GoogleCalendarStandIn
) -> None:
    owner = await new_owner()
    key = google.add_service_account()
    calendar_id = google.share_calendar(key)
    connection = await _connection(
        tools_stub,
        owner,
        google_calendar=tool_pb2.GoogleCalendarConnection(
            service_account_key_json=key, calendar_id=calendar_id
        ),
    )
    agent = await _agent(
        tools_stub,
        owner,
        tool_pb2.BUILTIN_TOOL_SCHEDULE_EVENT,
        builtin_settings=agent_pb2.BuiltinToolSettings(calendar_connection_id=connection.id),
    )
    slot = _next_monday_at(14)
    results = await asyncio.gather(*(_schedule(tools_stub, owner, agent, slot) for _ in range(4)))
    statuses = sorted(pb.ErrorReason.Name(r.error_reason) for r in results)
    assert statuses == ["ERROR_REASON_SLOT_UNAVAILABLE"] * 3 + ["ERROR_REASON_UNSPECIFIED"]
    assert len(google.events[calendar_id]) == 1


async def test_update_tool_connection_rechecks_and_keeps_the_provider(
    tools_stub: AgentStub, new_owner: NewOwner, notion: NotionStandIn
) -> None:
    owner = await new_owner()
    token = f"ntn_{uuid.uuid4().hex}"
    database = notion.add_database(token)
    connection = await _connection(
        tools_stub,
        owner,
        notion=tool_pb2.NotionConnection(api_token="ntn_wrong", database_id=database),
    )
    assert connection.status == tool_pb2.CONNECTION_STATUS_AUTH_FAILED

    async def update(paths: list[str], metadata: Metadata = owner, **config: Any) -> Any:
        return await tools_stub.UpdateToolConnection(
            pb.UpdateToolConnectionRequest(
                tool_connection=tool_pb2.ToolConnection(id=connection.id, **config),
                update_mask=field_mask_pb2.FieldMask(paths=paths),
            ),
            metadata=metadata,
        )

    fixed = await update(
        ["notion.api_token", "display_name"],
        display_name="Team tasks",
        notion=tool_pb2.NotionConnection(api_token=token),
    )
    assert fixed.tool_connection.status == tool_pb2.CONNECTION_STATUS_READY
    assert fixed.tool_connection.display_name == "Team tasks"
    assert fixed.tool_connection.notion.database_id == database
    assert fixed.tool_connection.notion.api_token == ""
    assert fixed.tool_connection.id == connection.id
    refused: list[tuple[list[str], dict[str, Any]]] = [
        (["asana.access_token"], {"asana": tool_pb2.AsanaConnection(access_token="x")}),
        (["provider"], {}),
        (["google_calendar.service_account_email"], {}),
    ]
    for paths, config in refused:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await update(paths, **config)
        assert reason_of(caught.value) == "FIELD_NOT_UPDATABLE", paths
    stranger = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await update(["display_name"], stranger, display_name="mine")
    assert reason_of(caught.value) == "CONNECTION_NOT_FOUND"
    agent = await _agent(tools_stub, owner, tool_pb2.BUILTIN_TOOL_CREATE_TASK)
    created = await tools_stub.ExecuteTool(
        _call(agent, "create_task", {"title": "t"}), metadata=owner
    )
    assert created.status == action_pb2.ACTION_STATUS_SUCCEEDED, created

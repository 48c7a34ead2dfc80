"""MCP servers against a real MCP server built with the official SDK (MCPServer over streamable
HTTP, served by uvicorn on loopback): discovery into Tool resources, calls through ExecuteTool,
refresh and removal taking tools away from agents, auth failures, servers that are down or
slow (a clear status or action-log error, never a hang), the SSRF rules, and owner isolation."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import action_pb2, agent_pb2, agent_service_pb2_grpc, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb

from tests.agent.conftest import AgentStub, MakeAgentServer, Metadata, NewOwner, reason_of
from tests.agent.dns_standin import nameserver
from tests.standins.mcp_server import McpStandIn

TOKEN = "mcp-secret-token"


@pytest.fixture(scope="module")
def dns() -> Iterator[str]:
    with nameserver({"mcp.test": "127.0.0.1"}) as address:
        yield address


async def _stub_for(make: MakeAgentServer, **settings: Any) -> AsyncIterator[AgentStub]:
    server = await make(**settings)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield agent_service_pb2_grpc.AgentServiceStub(channel)


@pytest.fixture(scope="module")
async def mcp(make_agent_server: MakeAgentServer, dns: str) -> AsyncIterator[AgentStub]:
    async for stub in _stub_for(
        make_agent_server,
        allowed_private_networks="127.0.0.1/32",
        dns_nameservers=dns,
        mcp_call_timeout_seconds=1.0,
        discovery_timeout_seconds=1.0,
    ):
        yield stub


@pytest.fixture(scope="module")
async def strict(make_agent_server: MakeAgentServer, dns: str) -> AsyncIterator[AgentStub]:
    async for stub in _stub_for(
        make_agent_server, allowed_private_networks="", dns_nameservers=dns
    ):
        yield stub


@pytest.fixture(scope="module")
async def shop() -> AsyncIterator[McpStandIn]:
    async with McpStandIn(token=TOKEN) as standin:
        yield standin


def _server(url: str, token: str = TOKEN, name: str = "") -> tool_pb2.McpServer:
    return tool_pb2.McpServer(
        name=name or f"s{uuid.uuid4().hex[:8]}",
        url=url,
        auth_header_value=f"Bearer {token}" if token else "",
    )


async def _add(stub: AgentStub, owner: Metadata, server: tool_pb2.McpServer) -> tool_pb2.McpServer:
    response = await stub.CreateMcpServer(
        pb.CreateMcpServerRequest(mcp_server=server), metadata=owner
    )
    added: tool_pb2.McpServer = response.mcp_server
    return added


async def _agent_with(stub: AgentStub, owner: Metadata, *tool_ids: str) -> agent_pb2.Agent:
    response = await stub.CreateAgent(
        pb.CreateAgentRequest(
            agent=agent_pb2.Agent(display_name="Mcp", system_prompt="p", tool_ids=tool_ids)
        ),
        metadata=owner,
    )
    agent: agent_pb2.Agent = response.agent
    return agent


async def _execute(
    stub: AgentStub, owner: Metadata, agent: agent_pb2.Agent, name: str, args: Any
) -> pb.ExecuteToolResponse:
    response: pb.ExecuteToolResponse = await stub.ExecuteTool(
        pb.ExecuteToolRequest(
            agent_id=agent.id,
            contact_id=str(uuid.uuid4()),
            tool_name=name,
            arguments_json=json.dumps(args),
            call_id=f"call-{uuid.uuid4()}",
        ),
        metadata=owner,
    )
    return response


def _reason(result: pb.ExecuteToolResponse) -> str:
    return pb.ErrorReason.Name(result.error_reason).removeprefix("ERROR_REASON_")


async def test_discovered_tools_are_called_through_execute_tool(
    mcp: AgentStub, new_owner: NewOwner, shop: McpStandIn
) -> None:
    owner = await new_owner()
    server = await _add(mcp, owner, _server(shop.url))
    assert server.status == tool_pb2.MCP_SERVER_STATUS_READY, server.status_message
    assert server.has_auth_header
    assert not server.auth_header_value
    prefix = server.name
    names = {t.name: t for t in server.tools}
    assert sorted(names) == sorted(
        f"{prefix}_{n}" for n in ("dawdle", "explode", "lookup_order", "shout")
    )
    lookup = names[f"{prefix}_lookup_order"]
    assert lookup.kind == tool_pb2.TOOL_KIND_MCP
    assert lookup.mcp.remote_name == "lookup_order"
    assert lookup.parameters["required"] == ["order_id"]
    listed = await mcp.ListTools(
        pb.ListToolsRequest(mcp_server_id=server.id, kind=tool_pb2.TOOL_KIND_MCP), metadata=owner
    )
    assert [t.name for t in listed.tools] == sorted(names)

    agent = await _agent_with(mcp, owner, *(t.id for t in server.tools if "shout" not in t.name))
    found = await _execute(mcp, owner, agent, lookup.name, {"order_id": "A-7"})
    assert found.status == action_pb2.ACTION_STATUS_SUCCEEDED, found.error_message
    assert json.loads(found.result_json) == {"order_id": "A-7", "status": "shipped"}
    assert found.tool_kind == tool_pb2.TOOL_KIND_MCP

    cases = [
        (f"{prefix}_explode", {}, "TOOL_UPSTREAM_ERROR"),
        (f"{prefix}_dawdle", {}, "MCP_SERVER_UNAVAILABLE"),
        (f"{prefix}_shout", {"text": "hi"}, "TOOL_NOT_ALLOWED"),
        (lookup.name, {"order": 1}, "INVALID_TOOL_ARGUMENTS"),
    ]
    for name, args, reason in cases:
        began = time.monotonic()
        result = await _execute(mcp, owner, agent, name, args)
        assert _reason(result) == reason, (name, result.error_message)
        assert time.monotonic() - began < 10, name
        logged = await mcp.GetAgentAction(
            pb.GetAgentActionRequest(action_id=result.action_id), metadata=owner
        )
        assert logged.action.reason == reason
        assert logged.action.error_message

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mcp.DeleteTool(pb.DeleteToolRequest(tool_id=lookup.id), metadata=owner)
    assert reason_of(caught.value) == "TOOL_MANAGED_BY_MCP_SERVER"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mcp.UpdateTool(
            pb.UpdateToolRequest(
                tool=tool_pb2.Tool(id=lookup.id, description="x"),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            ),
            metadata=owner,
        )
    assert reason_of(caught.value) == "TOOL_MANAGED_BY_MCP_SERVER"


async def test_refresh_rename_and_delete_follow_the_server(
    mcp: AgentStub, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    async with McpStandIn() as standin:
        server = await _add(mcp, owner, _server(standin.url, token=""))
        assert not server.has_auth_header
        ids = {t.mcp.remote_name: t.id for t in server.tools}
        agent = await _agent_with(mcp, owner, ids["shout"], ids["explode"])

        def refund(order_id: str) -> str:
            """Refund an order."""
            return f"refunded {order_id}"

        standin.server.add_tool(refund)
        standin.server.remove_tool("explode")
        refreshed = await mcp.RefreshMcpServer(
            pb.RefreshMcpServerRequest(mcp_server_id=server.id), metadata=owner
        )
        assert list(refreshed.added_tool_names) == [f"{server.name}_refund"]
        assert list(refreshed.removed_tool_names) == [f"{server.name}_explode"]
        kept = {t.mcp.remote_name: t.id for t in refreshed.mcp_server.tools}
        assert kept["shout"] == ids["shout"]
        after = await mcp.GetAgent(pb.GetAgentRequest(agent_id=agent.id), metadata=owner)
        assert list(after.agent.tool_ids) == [ids["shout"]]

        renamed = await mcp.UpdateMcpServer(
            pb.UpdateMcpServerRequest(
                mcp_server=tool_pb2.McpServer(id=server.id, name="crm"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            ),
            metadata=owner,
        )
        assert "crm_shout" in [t.name for t in renamed.mcp_server.tools]
        shouted = await _execute(mcp, owner, agent, "crm_shout", {"text": "hey"})
        assert json.loads(shouted.result_json) == {"result": "HEY"}

    down = await _execute(mcp, owner, agent, "crm_shout", {"text": "hey"})
    assert _reason(down) == "MCP_SERVER_UNAVAILABLE"
    assert down.status == action_pb2.ACTION_STATUS_FAILED
    await mcp.DeleteMcpServer(pb.DeleteMcpServerRequest(mcp_server_id=server.id), metadata=owner)
    after = await mcp.GetAgent(pb.GetAgentRequest(agent_id=agent.id), metadata=owner)
    assert list(after.agent.tool_ids) == []
    assert not (await mcp.ListTools(pb.ListToolsRequest(), metadata=owner)).tools


async def test_unreachable_slow_and_refusing_servers_get_a_status(
    mcp: AgentStub, new_owner: NewOwner, shop: McpStandIn
) -> None:
    owner = await new_owner()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        cases = [
            (f"http://127.0.0.1:{closed_port}/mcp", TOKEN, tool_pb2.MCP_SERVER_STATUS_UNREACHABLE),
            (
                f"http://127.0.0.1:{silent.getsockname()[1]}/mcp",
                TOKEN,
                tool_pb2.MCP_SERVER_STATUS_UNREACHABLE,
            ),
            (shop.url, "wrong-token", tool_pb2.MCP_SERVER_STATUS_AUTH_FAILED),
            (
                shop.url.replace("/mcp", "/elsewhere"),
                TOKEN,
                tool_pb2.MCP_SERVER_STATUS_PROTOCOL_ERROR,
            ),
        ]
        for url, token, status in cases:
            began = time.monotonic()
            server = await _add(mcp, owner, _server(url, token))
            assert server.status == status, (url, server.status_message)
            assert server.status_message
            assert not server.tools
            assert time.monotonic() - began < 10
    finally:
        silent.close()
    fixed = await mcp.UpdateMcpServer(
        pb.UpdateMcpServerRequest(
            mcp_server=tool_pb2.McpServer(id=server.id, url=shop.url),
            update_mask=field_mask_pb2.FieldMask(paths=["url"]),
        ),
        metadata=owner,
    )
    assert fixed.mcp_server.status == tool_pb2.MCP_SERVER_STATUS_READY
    assert len(fixed.mcp_server.tools) == 4


async def test_forbidden_addresses_are_refused_before_and_after_dns(
    mcp: AgentStub, strict: AgentStub, new_owner: NewOwner, shop: McpStandIn
) -> None:
    owner = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _add(strict, owner, _server(shop.url))
    assert reason_of(caught.value) == "TOOL_DESTINATION_FORBIDDEN"
    by_name = shop.url.replace("127.0.0.1", "mcp.test")
    refused = await _add(strict, owner, _server(by_name))
    assert refused.status == tool_pb2.MCP_SERVER_STATUS_UNREACHABLE
    assert "forbidden" in refused.status_message
    allowed = await mcp.RefreshMcpServer(
        pb.RefreshMcpServerRequest(mcp_server_id=refused.id), metadata=owner
    )
    assert allowed.mcp_server.status == tool_pb2.MCP_SERVER_STATUS_READY
    tool = next(t for t in allowed.mcp_server.tools if t.mcp.remote_name == "shout")
    agent = await _agent_with(mcp, owner, tool.id)
    result = await _execute(strict, owner, agent, tool.name, {"text": "x"})
    assert _reason(result) == "TOOL_DESTINATION_FORBIDDEN"
    assert result.status == action_pb2.ACTION_STATUS_REJECTED


async def test_owners_cannot_see_or_change_each_others_servers(
    mcp: AgentStub, new_owner: NewOwner, shop: McpStandIn
) -> None:
    owner, stranger = await new_owner(), await new_owner()
    request_id = str(uuid.uuid4())
    server = (
        await mcp.CreateMcpServer(
            pb.CreateMcpServerRequest(mcp_server=_server(shop.url), request_id=request_id),
            metadata=owner,
        )
    ).mcp_server
    again = await mcp.CreateMcpServer(
        pb.CreateMcpServerRequest(mcp_server=_server(shop.url), request_id=request_id),
        metadata=owner,
    )
    assert again.mcp_server.id == server.id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _add(mcp, owner, _server(shop.url, name=server.name))
    assert reason_of(caught.value) == "MCP_SERVER_NAME_TAKEN"
    for call in (
        mcp.GetMcpServer(pb.GetMcpServerRequest(mcp_server_id=server.id), metadata=stranger),
        mcp.RefreshMcpServer(
            pb.RefreshMcpServerRequest(mcp_server_id=server.id), metadata=stranger
        ),
        mcp.DeleteMcpServer(pb.DeleteMcpServerRequest(mcp_server_id=server.id), metadata=stranger),
        mcp.UpdateMcpServer(
            pb.UpdateMcpServerRequest(
                mcp_server=tool_pb2.McpServer(id=server.id, name="mine"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            ),
            metadata=stranger,
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert reason_of(caught.value) == "MCP_SERVER_NOT_FOUND"
    assert not (await mcp.ListMcpServers(pb.ListMcpServersRequest(), metadata=stranger)).mcp_servers
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _agent_with(mcp, stranger, server.tools[0].id)
    assert reason_of(caught.value) == "TOOL_NOT_FOUND"
    mine = await mcp.ListMcpServers(pb.ListMcpServersRequest(), metadata=owner)
    assert [s.id for s in mine.mcp_servers] == [server.id]
    await asyncio.sleep(0)

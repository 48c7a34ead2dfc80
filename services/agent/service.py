"""AgentService handlers: validation is done by the pipeline; each handler calls the domain and
maps the result. RPCs not overridden here answer UNIMPLEMENTED (the generated base class)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
import sqlalchemy as sa
from inbetwin.agent.v1 import action_pb2, agent_service_pb2_grpc, handoff_pb2, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent import action_log, errors, page_tokens, repository
from services.agent.activity_hub import ActivityHub
from services.agent.agents import AgentBook
from services.agent.agents import to_proto as agent_proto
from services.agent.connections import Connections
from services.agent.connections import to_proto as connection_proto
from services.agent.directory import SocialDirectory
from services.agent.handoffs import HandoffRequest, Handoffs
from services.agent.handoffs import to_proto as handoff_proto
from services.agent.tables import tools as tools_table
from services.agent.tools.builtins import BUILTINS, BY_TOOL
from services.agent.tools.catalog import ToolCatalog
from services.agent.tools.catalog import to_proto as tool_proto
from services.agent.tools.executor import ToolExecutor
from services.agent.tools.mcp_servers import McpServers
from services.agent.watch import WatchLimits, watch
from services.agent.working_hours import schedule_of
from services.kit.identity import current_caller
from services.kit.outbox import OutboxRelay

Context = grpc.aio.ServicerContext[Any, Any]
ResponseT = TypeVar("ResponseT", pb.CreateHandoffResponse, pb.RequestHandoffResponse)

REPLY_KINDS = frozenset(
    {
        action_pb2.ACTION_KIND_REPLY_SENT,
        action_pb2.ACTION_KIND_REPLY_SUPPRESSED,
        action_pb2.ACTION_KIND_REPLY_SKIPPED,
        action_pb2.ACTION_KIND_REPLY_SUPERSEDED,
        action_pb2.ACTION_KIND_ERROR,
    }
)


def _owner() -> str:
    return current_caller().user_id


def _time(value: Any) -> datetime | None:
    return value.ToDatetime(tzinfo=UTC) if value.seconds or value.nanos else None


class AgentServicer(agent_service_pb2_grpc.AgentServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        agents: AgentBook,
        handoffs: Handoffs,
        hub: ActivityHub,
        watch_limits: WatchLimits,
        executor: ToolExecutor,
        connections: Connections,
        catalog: ToolCatalog,
        mcp_servers: McpServers,
        directory: SocialDirectory,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._agents = agents
        self._handoffs = handoffs
        self._hub = hub
        self._watch_limits = watch_limits
        self._executor = executor
        self._connections = connections
        self._catalog = catalog
        self._mcp_servers = mcp_servers
        self._directory = directory

    # ---- agents ----------------------------------------------------------------------------

    async def CreateAgent(
        self, request: pb.CreateAgentRequest, context: Context
    ) -> pb.CreateAgentResponse:
        agent = await self._agents.create(_owner(), request.agent, request.request_id)
        return pb.CreateAgentResponse(agent=agent)

    async def GetAgent(self, request: pb.GetAgentRequest, context: Context) -> pb.GetAgentResponse:
        return pb.GetAgentResponse(agent=await self._agents.get(_owner(), request.agent_id))

    async def ListAgents(
        self, request: pb.ListAgentsRequest, context: Context
    ) -> pb.ListAgentsResponse:
        scope = f"agents:{request.integration_id}:{request.enabled_only}"
        after = page_tokens.decode_time(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        rows = await self._agents.page(
            _owner(),
            limit=size + 1,
            after=after,
            integration_id=request.integration_id,
            enabled_only=request.enabled_only,
        )
        response = pb.ListAgentsResponse(agents=[agent_proto(row) for row in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.created_at, row_id=last.id
            )
        return response

    async def UpdateAgent(
        self, request: pb.UpdateAgentRequest, context: Context
    ) -> pb.UpdateAgentResponse:
        # The id comes from the URL path and has no contract rule (it is output-only).
        if not _is_uuid(request.agent.id):
            raise errors.agent_not_found()
        agent = await self._agents.update(_owner(), request.agent, request.update_mask)
        return pb.UpdateAgentResponse(agent=agent)

    async def DeleteAgent(
        self, request: pb.DeleteAgentRequest, context: Context
    ) -> pb.DeleteAgentResponse:
        await self._agents.delete(_owner(), request.agent_id)
        return pb.DeleteAgentResponse()

    # ---- action log ------------------------------------------------------------------------

    async def ListAgentActions(
        self, request: pb.ListAgentActionsRequest, context: Context
    ) -> pb.ListAgentActionsResponse:
        start, end = _time(request.start_time), _time(request.end_time)
        if start is not None and end is not None and end <= start:
            raise errors.invalid("INVALID_TIME_RANGE", "end_time must be after start_time")
        filters = pb.ListAgentActionsRequest()
        filters.CopyFrom(request)
        filters.ClearField("page_token")
        filters.ClearField("page_size")
        scope = "actions:" + filters.SerializeToString(deterministic=True).hex()
        before = page_tokens.decode_time(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        async with self._engine.connect() as conn:
            rows = await action_log.list_actions(
                conn,
                owner_id=_owner(),
                limit=size + 1,
                before=before,
                agent_id=request.agent_id,
                contact_id=request.contact_id,
                message_id=request.message_id,
                kind=int(request.kind),
                status=int(request.status),
                start_time=start,
                end_time=end,
            )
        response = pb.ListAgentActionsResponse(
            actions=[action_log.to_proto(row) for row in rows[:size]]
        )
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.created_at, row_id=last.id
            )
        return response

    async def GetAgentAction(
        self, request: pb.GetAgentActionRequest, context: Context
    ) -> pb.GetAgentActionResponse:
        async with self._engine.connect() as conn:
            row = await action_log.action_by_id(
                conn, owner_id=_owner(), action_id=request.action_id
            )
        if row is None:
            raise errors.action_not_found()
        return pb.GetAgentActionResponse(action=action_log.to_proto(row))

    async def CreateAgentAction(
        self, request: pb.CreateAgentActionRequest, context: Context
    ) -> pb.CreateAgentActionResponse:
        owner_id = _owner()
        if request.action.kind not in REPLY_KINDS:
            raise errors.invalid(
                "ACTION_KIND_NOT_ALLOWED", "only reply actions and errors are recorded this way"
            )
        scope = "CreateAgentAction"
        async with self._engine.begin() as conn:
            if request.request_id:
                await repository.lock_owner(conn, owner_id=owner_id, scope=request.request_id)
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=scope, request_id=request.request_id
            )
            if earlier is not None:
                return pb.CreateAgentActionResponse.FromString(earlier)
            action = await action_log.record(conn, owner_id=owner_id, action=request.action)
            response = pb.CreateAgentActionResponse(action=action)
            await repository.remember(
                conn,
                owner_id=owner_id,
                scope=scope,
                request_id=request.request_id,
                response=response.SerializeToString(),
            )
        self._relay.notify()
        self._hub.deliver_local(owner_id, action)
        return response

    def WatchAgentActivity(
        self, request: pb.WatchAgentActivityRequest, context: Context
    ) -> AsyncIterator[bytes]:
        # Returns the stream itself (not a generator around it): one hop less per event.
        owner_id = _owner()

        async def agent_exists() -> object:
            return await self._agents.get(owner_id, request.agent_id)

        return watch(
            hub=self._hub,
            engine=self._engine,
            limits=self._watch_limits,
            owner_id=owner_id,
            request=request,
            before=agent_exists if request.agent_id else None,
        )

    # ---- handoffs --------------------------------------------------------------------------

    async def CreateHandoff(
        self, request: pb.CreateHandoffRequest, context: Context
    ) -> pb.CreateHandoffResponse:
        owner_id = _owner()
        await self._directory.check_contact(owner_id, request.integration_id, request.contact_id)
        return await self._remembered_handoff(
            owner_id,
            "CreateHandoff",
            request.request_id,
            HandoffRequest(
                owner_id=owner_id,
                integration_id=request.integration_id,
                contact_id=request.contact_id,
                requested_by=handoff_pb2.HANDOFF_REQUESTER_OWNER_MANUAL,
                reason=request.reason,
            ),
            pb.CreateHandoffResponse,
        )

    async def RequestHandoff(
        self, request: pb.RequestHandoffRequest, context: Context
    ) -> pb.RequestHandoffResponse:
        owner_id = _owner()
        if request.agent_id:
            await self._agents.get(owner_id, request.agent_id)
        return await self._remembered_handoff(
            owner_id,
            "RequestHandoff",
            request.request_id,
            HandoffRequest(
                owner_id=owner_id,
                integration_id=request.integration_id,
                contact_id=request.contact_id,
                requested_by=int(request.requested_by),
                agent_id=request.agent_id,
                message_id=request.message_id,
                reason=request.reason,
            ),
            pb.RequestHandoffResponse,
        )

    async def _remembered_handoff(
        self,
        owner_id: str,
        scope: str,
        request_id: str,
        handoff_request: HandoffRequest,
        response_type: type[ResponseT],
    ) -> ResponseT:
        async with self._engine.begin() as conn:
            if request_id:
                await repository.lock_owner(conn, owner_id=owner_id, scope=request_id)
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=scope, request_id=request_id
            )
            if earlier is not None:
                return response_type.FromString(earlier)
            handoff, created = await self._handoffs.open(handoff_request, conn)
            response = response_type(handoff=handoff, created=created)
            await repository.remember(
                conn,
                owner_id=owner_id,
                scope=scope,
                request_id=request_id,
                response=response.SerializeToString(),
            )
        if created:
            await self._handoffs.cache(owner_id, handoff.contact_id, handoff)
            self._relay.notify()
        return response

    async def GetHandoff(
        self, request: pb.GetHandoffRequest, context: Context
    ) -> pb.GetHandoffResponse:
        return pb.GetHandoffResponse(handoff=await self._handoffs.get(_owner(), request.handoff_id))

    async def ListHandoffs(
        self, request: pb.ListHandoffsRequest, context: Context
    ) -> pb.ListHandoffsResponse:
        scope = f"handoffs:{int(request.state)}:{request.agent_id}:{request.contact_id}"
        before = page_tokens.decode_time(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        rows = await self._handoffs.page(
            _owner(),
            limit=size + 1,
            before=before,
            state=int(request.state),
            agent_id=request.agent_id,
            contact_id=request.contact_id,
        )
        response = pb.ListHandoffsResponse(handoffs=[handoff_proto(row) for row in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.created_at, row_id=last.id
            )
        return response

    async def ResolveHandoff(
        self, request: pb.ResolveHandoffRequest, context: Context
    ) -> pb.ResolveHandoffResponse:
        handoff = await self._handoffs.resolve(_owner(), request.handoff_id, request.note)
        return pb.ResolveHandoffResponse(handoff=handoff)

    async def GetConversationControl(
        self, request: pb.GetConversationControlRequest, context: Context
    ) -> pb.GetConversationControlResponse:
        owner_id = _owner()
        control = handoff_pb2.ConversationControl(
            integration_id=request.integration_id, contact_id=request.contact_id
        )
        handoff = await self._handoffs.open_handoff(owner_id, request.contact_id)
        if handoff is not None:
            control.blocks.append(handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN)
            control.open_handoff.CopyFrom(handoff)
        next_start = None
        if request.agent_id:
            agent = await self._agents.get(owner_id, request.agent_id)
            if not agent.enabled:
                control.blocks.append(handoff_pb2.REPLY_BLOCK_AGENT_DISABLED)
            if agent.HasField("working_hours"):
                schedule = schedule_of(agent.working_hours)
                now = datetime.now(UTC)
                if not schedule.is_open(now):
                    control.blocks.append(handoff_pb2.REPLY_BLOCK_OUTSIDE_WORKING_HOURS)
                    next_start = schedule.next_start(now)
            if agent.integration_ids and request.integration_id not in agent.integration_ids:
                control.blocks.append(handoff_pb2.REPLY_BLOCK_INTEGRATION_NOT_SERVED)
        control.may_reply = not control.blocks
        if next_start is not None and list(control.blocks) == [
            handoff_pb2.REPLY_BLOCK_OUTSIDE_WORKING_HOURS
        ]:
            control.next_window_start_time.FromDatetime(next_start)
        return pb.GetConversationControlResponse(control=control)

    # ---- tools -----------------------------------------------------------------------------

    async def ListBuiltinTools(
        self, request: pb.ListBuiltinToolsRequest, context: Context
    ) -> pb.ListBuiltinToolsResponse:
        page_tokens.decode(request.page_token, scope="builtins")
        return pb.ListBuiltinToolsResponse(builtin_tools=[b.info() for b in BUILTINS])

    async def CreateTool(
        self, request: pb.CreateToolRequest, context: Context
    ) -> pb.CreateToolResponse:
        tool, generated = await self._catalog.create(_owner(), request.tool, request.request_id)
        return pb.CreateToolResponse(tool=tool, generated_signing_secret=generated)

    async def GetTool(self, request: pb.GetToolRequest, context: Context) -> pb.GetToolResponse:
        return pb.GetToolResponse(tool=await self._catalog.get(_owner(), request.tool_id))

    async def ListTools(
        self, request: pb.ListToolsRequest, context: Context
    ) -> pb.ListToolsResponse:
        scope = f"tools:{int(request.kind)}:{request.mcp_server_id}"
        after = page_tokens.decode(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        rows = await self._catalog.page(
            _owner(),
            limit=size + 1,
            after=after,
            kind=int(request.kind),
            mcp_server_id=request.mcp_server_id,
        )
        response = pb.ListToolsResponse(tools=[tool_proto(row) for row in rows[:size]])
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.name, row_id=last.id
            )
        return response

    async def UpdateTool(
        self, request: pb.UpdateToolRequest, context: Context
    ) -> pb.UpdateToolResponse:
        if not _is_uuid(request.tool.id):
            raise errors.tool_not_found()
        tool = await self._catalog.update(_owner(), request.tool, request.update_mask)
        return pb.UpdateToolResponse(tool=tool)

    async def DeleteTool(
        self, request: pb.DeleteToolRequest, context: Context
    ) -> pb.DeleteToolResponse:
        await self._catalog.delete(_owner(), request.tool_id)
        return pb.DeleteToolResponse()

    async def CreateMcpServer(
        self, request: pb.CreateMcpServerRequest, context: Context
    ) -> pb.CreateMcpServerResponse:
        server = await self._mcp_servers.create(_owner(), request.mcp_server, request.request_id)
        return pb.CreateMcpServerResponse(mcp_server=server)

    async def GetMcpServer(
        self, request: pb.GetMcpServerRequest, context: Context
    ) -> pb.GetMcpServerResponse:
        server = await self._mcp_servers.get(_owner(), request.mcp_server_id)
        return pb.GetMcpServerResponse(mcp_server=server)

    async def ListMcpServers(
        self, request: pb.ListMcpServersRequest, context: Context
    ) -> pb.ListMcpServersResponse:
        scope = "mcp_servers"
        after = page_tokens.decode(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        servers = await self._mcp_servers.page(_owner(), limit=size + 1, after=after)
        response = pb.ListMcpServersResponse(mcp_servers=servers[:size])
        if len(servers) > size:
            last = servers[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.name, row_id=last.id
            )
        return response

    async def UpdateMcpServer(
        self, request: pb.UpdateMcpServerRequest, context: Context
    ) -> pb.UpdateMcpServerResponse:
        if not _is_uuid(request.mcp_server.id):
            raise errors.mcp_server_not_found()
        server = await self._mcp_servers.update(_owner(), request.mcp_server, request.update_mask)
        return pb.UpdateMcpServerResponse(mcp_server=server)

    async def DeleteMcpServer(
        self, request: pb.DeleteMcpServerRequest, context: Context
    ) -> pb.DeleteMcpServerResponse:
        await self._mcp_servers.delete(_owner(), request.mcp_server_id)
        return pb.DeleteMcpServerResponse()

    async def RefreshMcpServer(
        self, request: pb.RefreshMcpServerRequest, context: Context
    ) -> pb.RefreshMcpServerResponse:
        found = await self._mcp_servers.refresh(_owner(), request.mcp_server_id)
        return pb.RefreshMcpServerResponse(
            mcp_server=found.server,
            added_tool_names=found.added,
            removed_tool_names=found.removed,
        )

    async def GetAgentToolset(
        self, request: pb.GetAgentToolsetRequest, context: Context
    ) -> pb.GetAgentToolsetResponse:
        owner_id = _owner()
        agent = await self._agents.get(owner_id, request.agent_id)
        response = pb.GetAgentToolsetResponse(agent=agent)
        for builtin in sorted(agent.builtin_tools):
            info = BY_TOOL[builtin].info()
            response.tools.add(
                name=info.name,
                description=info.description,
                parameters=info.parameters,
                kind=tool_pb2.TOOL_KIND_BUILTIN,
                builtin=info.builtin,
            )
        if agent.tool_ids:
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(tools_table)
                        .where(
                            tools_table.c.owner_id == owner_id,
                            tools_table.c.id.in_(list(agent.tool_ids)),
                        )
                        .order_by(tools_table.c.name)
                    )
                ).all()
            for row in rows:
                tool = tool_pb2.Tool.FromString(row.spec)
                definition = response.tools.add(
                    name=tool.name, description=tool.description, kind=tool.kind, tool_id=row.id
                )
                if tool.HasField("parameters"):
                    definition.parameters.CopyFrom(tool.parameters)
                else:
                    definition.parameters.update({"type": "object"})
        return response

    async def ExecuteTool(
        self, request: pb.ExecuteToolRequest, context: Context
    ) -> pb.ExecuteToolResponse:
        return await self._executor.execute(_owner(), request, context.time_remaining())

    # ---- workspace connections -------------------------------------------------------------

    async def CreateToolConnection(
        self, request: pb.CreateToolConnectionRequest, context: Context
    ) -> pb.CreateToolConnectionResponse:
        connection = await self._connections.create(
            _owner(), request.tool_connection, request.request_id
        )
        return pb.CreateToolConnectionResponse(tool_connection=connection)

    async def GetToolConnection(
        self, request: pb.GetToolConnectionRequest, context: Context
    ) -> pb.GetToolConnectionResponse:
        connection = await self._connections.get(_owner(), request.tool_connection_id)
        return pb.GetToolConnectionResponse(tool_connection=connection)

    async def ListToolConnections(
        self, request: pb.ListToolConnectionsRequest, context: Context
    ) -> pb.ListToolConnectionsResponse:
        scope = f"connections:{int(request.provider)}"
        after = page_tokens.decode_time(request.page_token, scope=scope)
        size = page_tokens.page_size(request.page_size)
        rows = await self._connections.page(
            _owner(), limit=size + 1, after=after, provider=int(request.provider)
        )
        response = pb.ListToolConnectionsResponse(
            tool_connections=[connection_proto(row) for row in rows[:size]]
        )
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last.created_at, row_id=last.id
            )
        return response

    async def UpdateToolConnection(
        self, request: pb.UpdateToolConnectionRequest, context: Context
    ) -> pb.UpdateToolConnectionResponse:
        connection = await self._connections.update(
            _owner(), request.tool_connection, request.update_mask
        )
        return pb.UpdateToolConnectionResponse(tool_connection=connection)

    async def DeleteToolConnection(
        self, request: pb.DeleteToolConnectionRequest, context: Context
    ) -> pb.DeleteToolConnectionResponse:
        await self._connections.delete(_owner(), request.tool_connection_id)
        return pb.DeleteToolConnectionResponse()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

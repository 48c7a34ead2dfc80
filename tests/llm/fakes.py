"""In-process stand-ins for the peer services whose RPCs are not built yet (agent, rag, social):
real grpc.aio servers implementing the generated servicers, so the llm service talks to them
over the real wire. Each keeps its state per owner (the `x-user-id` it is called with) and
records what it was asked. Switch a test to the real service by pointing the llm settings at
its address instead.

Setting `unimplemented = True` makes a fake answer UNIMPLEMENTED, as the unbuilt service does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from inbetwin.agent.v1 import (
    action_pb2,
    agent_pb2,
    agent_service_pb2_grpc,
    handoff_pb2,
    tool_pb2,
)
from inbetwin.agent.v1 import (
    agent_service_pb2 as apb,
)
from inbetwin.rag.v1 import knowledge_base_pb2 as kb_pb2
from inbetwin.rag.v1 import rag_service_pb2 as rpb
from inbetwin.rag.v1 import rag_service_pb2_grpc, search_pb2
from inbetwin.social.v1 import message_pb2, social_service_pb2_grpc
from inbetwin.social.v1 import social_service_pb2 as spb


def owner_of(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-user-id":
            return str(value)
    return ""


async def abort(
    context: grpc.aio.ServicerContext, code: grpc.StatusCode, reason: str, domain: str
) -> None:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain))
    status = status_pb2.Status(code=code.value[0], message=reason, details=[detail])
    await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]


ToolHandler = Callable[[apb.ExecuteToolRequest], apb.ExecuteToolResponse]


@dataclass
class AgentState:
    agents: dict[str, list[agent_pb2.Agent]] = field(default_factory=dict)
    tools: dict[str, list[tool_pb2.ToolDefinition]] = field(default_factory=dict)
    controls: dict[tuple[str, str], handoff_pb2.ConversationControl] = field(default_factory=dict)
    handlers: dict[str, ToolHandler] = field(default_factory=dict)
    executed: list[tuple[str, apb.ExecuteToolRequest]] = field(default_factory=list)
    actions: dict[str, tuple[str, action_pb2.AgentAction]] = field(default_factory=dict)
    handoffs: list[tuple[str, apb.RequestHandoffRequest]] = field(default_factory=list)
    control_calls: dict[tuple[str, str], int] = field(default_factory=dict)


class FakeAgentService(agent_service_pb2_grpc.AgentServiceServicer):
    DOMAIN = "agent.inbetwin.app"

    def __init__(self) -> None:
        self.state = AgentState()
        self.unimplemented = False
        self._ids = itertools.count(1)

    def add_agent(
        self,
        owner_id: str,
        *,
        tools: list[tool_pb2.ToolDefinition] | None = None,
        **fields: Any,
    ) -> agent_pb2.Agent:
        agent = agent_pb2.Agent(id=str(uuid.uuid4()), enabled=True, **fields)
        self.state.agents.setdefault(owner_id, []).append(agent)
        self.state.tools[agent.id] = list(tools or [])
        return agent

    def actions_for(self, message_id: str) -> list[action_pb2.AgentAction]:
        return [a for _, a in self.state.actions.values() if a.message_id == message_id]

    def handoffs_for(self, contact_id: str) -> list[apb.RequestHandoffRequest]:
        return [r for _, r in self.state.handoffs if r.contact_id == contact_id]

    async def _check(self, context: grpc.aio.ServicerContext) -> str:
        if self.unimplemented:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not built yet")
        return owner_of(context)

    async def _agent(self, owner: str, agent_id: str, context: Any) -> agent_pb2.Agent:
        for agent in self.state.agents.get(owner, []):
            if agent.id == agent_id:
                return agent
        await abort(context, grpc.StatusCode.NOT_FOUND, "AGENT_NOT_FOUND", self.DOMAIN)
        raise AssertionError("unreachable")

    async def ListAgents(
        self, request: apb.ListAgentsRequest, context: grpc.aio.ServicerContext
    ) -> apb.ListAgentsResponse:
        owner = await self._check(context)
        agents = [
            a
            for a in self.state.agents.get(owner, [])
            if (not request.enabled_only or a.enabled)
            and (
                not request.integration_id
                or not a.integration_ids
                or request.integration_id in a.integration_ids
            )
        ]
        return apb.ListAgentsResponse(agents=agents)

    async def GetAgentToolset(
        self, request: apb.GetAgentToolsetRequest, context: grpc.aio.ServicerContext
    ) -> apb.GetAgentToolsetResponse:
        owner = await self._check(context)
        agent = await self._agent(owner, request.agent_id, context)
        return apb.GetAgentToolsetResponse(agent=agent, tools=self.state.tools.get(agent.id, []))

    async def ExecuteTool(
        self, request: apb.ExecuteToolRequest, context: grpc.aio.ServicerContext
    ) -> apb.ExecuteToolResponse:
        owner = await self._check(context)
        await self._agent(owner, request.agent_id, context)
        self.state.executed.append((owner, request))
        action_id = str(uuid.uuid4())
        offered = {t.name for t in self.state.tools.get(request.agent_id, [])}
        if request.tool_name not in offered:
            return apb.ExecuteToolResponse(
                action_id=action_id,
                status=action_pb2.ACTION_STATUS_REJECTED,
                error_reason=apb.ERROR_REASON_TOOL_UNKNOWN,
                error_message=f"no tool named {request.tool_name}",
            )
        if request.tool_name == "call_operator":
            handoff = handoff_pb2.Handoff(
                id=str(uuid.uuid4()),
                contact_id=request.contact_id,
                state=handoff_pb2.HANDOFF_STATE_OPEN,
                requested_by=handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL,
            )
            return apb.ExecuteToolResponse(
                action_id=action_id,
                status=action_pb2.ACTION_STATUS_SUCCEEDED,
                result_json='{"handed_over": true}',
                handoff=handoff if not request.dry_run else None,
                simulated=request.dry_run,
            )
        handler = self.state.handlers.get(request.tool_name)
        if handler is not None:
            response = handler(request)
            response.action_id = action_id
            return response
        return apb.ExecuteToolResponse(
            action_id=action_id,
            status=action_pb2.ACTION_STATUS_SUCCEEDED,
            result_json='{"ok": true}',
            simulated=request.dry_run,
        )

    async def GetConversationControl(
        self, request: apb.GetConversationControlRequest, context: grpc.aio.ServicerContext
    ) -> apb.GetConversationControlResponse:
        owner = await self._check(context)
        key = (owner, request.contact_id)
        self.state.control_calls[key] = self.state.control_calls.get(key, 0) + 1
        control = self.state.controls.get(key)
        if control is None:
            control = handoff_pb2.ConversationControl(
                integration_id=request.integration_id, contact_id=request.contact_id, may_reply=True
            )
        return apb.GetConversationControlResponse(control=control)

    async def RequestHandoff(
        self, request: apb.RequestHandoffRequest, context: grpc.aio.ServicerContext
    ) -> apb.RequestHandoffResponse:
        owner = await self._check(context)
        self.state.handoffs.append((owner, request))
        handoff = handoff_pb2.Handoff(
            id=str(uuid.uuid4()),
            contact_id=request.contact_id,
            integration_id=request.integration_id,
            reason=request.reason,
            state=handoff_pb2.HANDOFF_STATE_OPEN,
            requested_by=request.requested_by,
        )
        return apb.RequestHandoffResponse(handoff=handoff, created=True)

    async def CreateAgentAction(
        self, request: apb.CreateAgentActionRequest, context: grpc.aio.ServicerContext
    ) -> apb.CreateAgentActionResponse:
        owner = await self._check(context)
        key = request.request_id or str(next(self._ids))
        self.state.actions.setdefault(key, (owner, request.action))
        return apb.CreateAgentActionResponse(action=self.state.actions[key][1])


class FakeRagService(rag_service_pb2_grpc.RagServiceServicer):
    def __init__(self) -> None:
        self.hits: dict[str, list[search_pb2.SearchHit]] = {}
        self.queries: list[tuple[str, rpb.SearchRequest]] = []
        self.unimplemented = False
        # Owners whose knowledge bases are listed; others get UNIMPLEMENTED (searched anyway).
        self.knowledge_bases: dict[str, list[kb_pb2.KnowledgeBase]] = {}

    async def ListKnowledgeBases(
        self, request: rpb.ListKnowledgeBasesRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListKnowledgeBasesResponse:
        owner = owner_of(context)
        if owner not in self.knowledge_bases:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not built yet")
        return rpb.ListKnowledgeBasesResponse(knowledge_bases=self.knowledge_bases[owner])

    async def Search(
        self, request: rpb.SearchRequest, context: grpc.aio.ServicerContext
    ) -> rpb.SearchResponse:
        if self.unimplemented:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not built yet")
        owner = owner_of(context)
        self.queries.append((owner, request))
        hits = self.hits.get(owner, [])[: request.top_k or 5]
        return rpb.SearchResponse(hits=hits, effective_mode=search_pb2.SEARCH_MODE_HYBRID)


def qa_hit(
    question: str, answer: str, *, score: float = 0.9, exact: bool = False
) -> search_pb2.SearchHit:
    return search_pb2.SearchHit(
        score=score,
        text=answer,
        knowledge_base_id=str(uuid.uuid4()),
        qa_pair=search_pb2.QaPairMatch(
            qa_pair_id=str(uuid.uuid4()), question=question, exact_match=exact
        ),
    )


def passage_hit(
    text: str, *, score: float = 0.9, file_name: str = "prices.pdf"
) -> search_pb2.SearchHit:
    return search_pb2.SearchHit(
        score=score,
        text=text,
        knowledge_base_id=str(uuid.uuid4()),
        citation=search_pb2.Citation(
            document_id=str(uuid.uuid4()),
            file_name=file_name,
            chunk_id=str(uuid.uuid4()),
            char_start=0,
            char_end=len(text),
            page_number=2,
        ),
    )


class FakeSocialService(social_service_pb2_grpc.SocialServiceServicer):
    def __init__(self) -> None:
        self.history: dict[tuple[str, str], list[message_pb2.Message]] = {}
        self.unimplemented = False

    async def GetConversationContext(
        self, request: spb.GetConversationContextRequest, context: grpc.aio.ServicerContext
    ) -> spb.GetConversationContextResponse:
        if self.unimplemented:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not built yet")
        owner = owner_of(context)
        messages = self.history.get((owner, request.contact_id))
        if messages is None:
            await abort(
                context, grpc.StatusCode.NOT_FOUND, "CONTACT_NOT_FOUND", "social.inbetwin.app"
            )
            raise AssertionError("unreachable")
        return spb.GetConversationContextResponse(
            messages=messages[-(request.max_messages or 20) :]
        )


@dataclass
class Peers:
    agent: FakeAgentService
    rag: FakeRagService
    social: FakeSocialService
    address: str
    server: grpc.aio.Server


async def start_peers() -> Peers:
    """One grpc.aio server hosting the three fakes (each service has its own name on it)."""
    server = grpc.aio.server()
    agent, rag, social = FakeAgentService(), FakeRagService(), FakeSocialService()
    agent_service_pb2_grpc.add_AgentServiceServicer_to_server(agent, server)
    rag_service_pb2_grpc.add_RagServiceServicer_to_server(rag, server)
    social_service_pb2_grpc.add_SocialServiceServicer_to_server(social, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return Peers(agent, rag, social, f"127.0.0.1:{port}", server)

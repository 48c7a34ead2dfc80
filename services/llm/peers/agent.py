"""The agent service: agents and their tools, tool execution, conversation control, handoffs
and the action log."""

from __future__ import annotations

import logging
import time

from inbetwin.agent.v1 import action_pb2, agent_pb2, handoff_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb

from services.llm.peers.base import Peer, PeerError

log = logging.getLogger("inbetwin.llm.peers.agent")


class AgentClient:
    def __init__(self, peer: Peer, *, cache_seconds: float) -> None:
        self._peer = peer
        self._cache_seconds = cache_seconds
        self._agents: dict[tuple[str, str], tuple[float, list[agent_pb2.Agent] | None]] = {}
        self._toolsets: dict[tuple[str, str], tuple[float, pb.GetAgentToolsetResponse | None]] = {}

    async def enabled_agents(
        self, *, owner_id: str, integration_id: str
    ) -> list[agent_pb2.Agent] | None:
        """The owner's enabled agents serving the integration, oldest first; None if unknown."""
        key = (owner_id, integration_id)
        cached = self._agents.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        agents: list[agent_pb2.Agent] | None = []
        token = ""
        while agents is not None:
            response = await self._peer.call(
                "ListAgents",
                pb.ListAgentsRequest(
                    integration_id=integration_id,
                    enabled_only=True,
                    page_size=100,
                    page_token=token,
                ),
                pb.ListAgentsResponse,
                owner_id=owner_id,
            )
            if response is None:
                agents = None
                break
            agents.extend(response.agents)
            token = response.next_page_token
            if not token:
                break
        self._agents[key] = (time.monotonic() + self._cache_seconds, agents)
        return agents

    async def toolset(self, *, owner_id: str, agent_id: str) -> pb.GetAgentToolsetResponse | None:
        """The agent and its tools; None when the agent service cannot answer. Raises PeerError
        (AGENT_NOT_FOUND) for an agent that is not the owner's."""
        key = (owner_id, agent_id)
        cached = self._toolsets.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        response = await self._peer.call(
            "GetAgentToolset",
            pb.GetAgentToolsetRequest(agent_id=agent_id),
            pb.GetAgentToolsetResponse,
            owner_id=owner_id,
        )
        self._toolsets[key] = (time.monotonic() + self._cache_seconds, response)
        return response

    async def control(
        self, *, owner_id: str, integration_id: str, contact_id: str, agent_id: str
    ) -> handoff_pb2.ConversationControl | None:
        response = await self._peer.call(
            "GetConversationControl",
            pb.GetConversationControlRequest(
                integration_id=integration_id, contact_id=contact_id, agent_id=agent_id
            ),
            pb.GetConversationControlResponse,
            owner_id=owner_id,
        )
        return response.control if response is not None else None

    async def execute_tool(
        self, *, owner_id: str, request: pb.ExecuteToolRequest, deadline: float
    ) -> pb.ExecuteToolResponse | None:
        return await self._peer.call(
            "ExecuteTool", request, pb.ExecuteToolResponse, owner_id=owner_id, deadline=deadline
        )

    async def request_handoff(
        self,
        *,
        owner_id: str,
        integration_id: str,
        contact_id: str,
        agent_id: str,
        message_id: str,
        reason: str,
        request_id: str,
    ) -> handoff_pb2.Handoff | None:
        """Escalate a conversation (requested by a guardrail); None, logged, when it cannot be."""
        try:
            response = await self._peer.call(
                "RequestHandoff",
                pb.RequestHandoffRequest(
                    integration_id=integration_id,
                    contact_id=contact_id,
                    requested_by=handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL,
                    agent_id=agent_id,
                    message_id=message_id,
                    reason=reason[:1000],
                    request_id=request_id,
                ),
                pb.RequestHandoffResponse,
                owner_id=owner_id,
            )
        except PeerError:
            log.exception("handoff request refused", extra={"contact_id": contact_id})
            return None
        if response is None:
            log.error(
                "could not escalate: the agent service is unavailable",
                extra={"contact_id": contact_id, "message_id": message_id, "reason": reason},
            )
            return None
        return response.handoff

    async def record_action(
        self, *, owner_id: str, action: action_pb2.AgentAction, request_id: str
    ) -> bool:
        """Record a reply action in the action log; False when it cannot be (logged)."""
        try:
            response = await self._peer.call(
                "CreateAgentAction",
                pb.CreateAgentActionRequest(action=action, request_id=request_id),
                pb.CreateAgentActionResponse,
                owner_id=owner_id,
            )
        except PeerError:
            log.exception("action refused", extra={"kind": action.kind})
            return False
        return response is not None

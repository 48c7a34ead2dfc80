"""The agent service: agents and their tools, tool execution, conversation control, handoffs
and the action log.

Agents, toolsets and conversation control are cached in-process: every reply reads them, and
they change rarely. Changes reach the cache through the bus (`services/llm/invalidation.py`:
AgentConfigChanged, handoff events, ContactUpdated); the TTLs only bound how long a missed
event can leave a stale copy. A fetch that overlapped an invalidation of its owner is not
cached, so a slow answer cannot overwrite the news that dropped it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime

from inbetwin.agent.v1 import action_pb2, agent_pb2, handoff_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb

from services.llm.peers.base import Peer, PeerError

log = logging.getLogger("inbetwin.llm.peers.agent")


ControlKey = tuple[str, str, str, str]  # owner, integration, contact, agent


def seconds_to_next_minute(now: datetime) -> float:
    """Working windows are whole minutes (`HH:MM`), so a control answer holds until then."""
    return 60.0 - now.second - now.microsecond / 1e6


class AgentClient:
    def __init__(
        self, peer: Peer, *, cache_seconds: float, control_cache_seconds: float = 0.0
    ) -> None:
        self._peer = peer
        self._cache_seconds = cache_seconds
        self._control_seconds = control_cache_seconds
        self._agents: dict[tuple[str, str], tuple[float, list[agent_pb2.Agent] | None]] = {}
        self._toolsets: dict[tuple[str, str], tuple[float, pb.GetAgentToolsetResponse | None]] = {}
        self._controls: dict[ControlKey, tuple[float, handoff_pb2.ConversationControl]] = {}
        self._epochs: defaultdict[str, int] = defaultdict(int)

    def forget_owner(self, owner_id: str) -> None:
        """Drop every cached agent, toolset and control of the owner (a config change)."""
        self._epochs[owner_id] += 1
        for key in [k for k in self._agents if k[0] == owner_id]:
            del self._agents[key]
        for key in [k for k in self._toolsets if k[0] == owner_id]:
            del self._toolsets[key]
        for control_key in [k for k in self._controls if k[0] == owner_id]:
            del self._controls[control_key]

    def forget_contact(self, owner_id: str, contact_id: str) -> None:
        """Drop the cached control of the contact's conversations (a handoff or contact change)."""
        self._epochs[owner_id] += 1
        for key in [k for k in self._controls if k[0] == owner_id and k[2] == contact_id]:
            del self._controls[key]

    def forget_all(self) -> None:
        """Drop everything (the invalidation feed reconnected and may have missed events)."""
        for owner_id in list(self._epochs):
            self._epochs[owner_id] += 1
        self._agents.clear()
        self._toolsets.clear()
        self._controls.clear()

    async def enabled_agents(
        self, *, owner_id: str, integration_id: str
    ) -> list[agent_pb2.Agent] | None:
        """The owner's enabled agents serving the integration, oldest first; None if unknown."""
        key = (owner_id, integration_id)
        cached = self._agents.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        epoch = self._epochs[owner_id]
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
        if epoch == self._epochs[owner_id]:
            self._agents[key] = (time.monotonic() + self._cache_seconds, agents)
        return agents

    async def toolset(self, *, owner_id: str, agent_id: str) -> pb.GetAgentToolsetResponse | None:
        """The agent and its tools; None when the agent service cannot answer. Raises PeerError
        (AGENT_NOT_FOUND) for an agent that is not the owner's."""
        key = (owner_id, agent_id)
        cached = self._toolsets.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        epoch = self._epochs[owner_id]
        response = await self._peer.call(
            "GetAgentToolset",
            pb.GetAgentToolsetRequest(agent_id=agent_id),
            pb.GetAgentToolsetResponse,
            owner_id=owner_id,
        )
        if epoch == self._epochs[owner_id]:
            self._toolsets[key] = (time.monotonic() + self._cache_seconds, response)
        return response

    async def control(
        self, *, owner_id: str, integration_id: str, contact_id: str, agent_id: str
    ) -> handoff_pb2.ConversationControl | None:
        key = (owner_id, integration_id, contact_id, agent_id)
        cached = self._controls.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        epoch = self._epochs[owner_id]
        response = await self._peer.call(
            "GetConversationControl",
            pb.GetConversationControlRequest(
                integration_id=integration_id, contact_id=contact_id, agent_id=agent_id
            ),
            pb.GetConversationControlResponse,
            owner_id=owner_id,
        )
        if response is None:
            return None
        if self._control_seconds > 0 and epoch == self._epochs[owner_id]:
            ttl = min(self._control_seconds, seconds_to_next_minute(datetime.now(UTC)))
            self._controls[key] = (time.monotonic() + ttl, response.control)
        return response.control

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

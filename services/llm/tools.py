"""Tool calls of the model, run by the agent service's ExecuteTool."""

from __future__ import annotations

import logging

from inbetwin.agent.v1 import action_pb2, agent_service_pb2, handoff_pb2
from inbetwin.llm.v1 import chat_pb2

from services.llm.drafts import ToolCallRecord
from services.llm.peers.agent import AgentClient
from services.llm.peers.base import PeerError

log = logging.getLogger("inbetwin.llm.tools")

_STATUS = {
    action_pb2.ACTION_STATUS_SUCCEEDED: chat_pb2.TOOL_CALL_STATUS_SUCCEEDED,
    action_pb2.ACTION_STATUS_FAILED: chat_pb2.TOOL_CALL_STATUS_FAILED,
    action_pb2.ACTION_STATUS_REJECTED: chat_pb2.TOOL_CALL_STATUS_REJECTED,
}
CALL_ID_MAX = 200


class AgentToolRunner:
    """Runs one reply's tool calls as its agent, in its conversation (or the playground)."""

    def __init__(
        self,
        agents: AgentClient,
        *,
        owner_id: str,
        agent_id: str,
        integration_id: str,
        contact_id: str,
        message_id: str,
        call_prefix: str,
        dry_run: bool,
        timeout: float,
    ) -> None:
        self._agents = agents
        self._owner_id = owner_id
        self._agent_id = agent_id
        self._integration_id = integration_id
        self._contact_id = contact_id
        self._message_id = message_id
        self._call_prefix = call_prefix
        self._dry_run = dry_run
        self._timeout = timeout

    async def run(self, record: ToolCallRecord) -> bool:
        if not self._agent_id:
            record.status = chat_pb2.TOOL_CALL_STATUS_REJECTED
            record.error_reason = "TOOL_UNKNOWN"
            record.error_message = f"there is no tool named {record.name!r}"
            return False
        request = agent_service_pb2.ExecuteToolRequest(
            agent_id=self._agent_id,
            integration_id=self._integration_id,
            contact_id=self._contact_id,
            message_id=self._message_id,
            tool_name=record.name[:128] or "unnamed",
            arguments_json=record.arguments_json[:65536],
            call_id=f"{self._call_prefix}:{record.call_id}"[:CALL_ID_MAX],
            dry_run=self._dry_run,
        )
        try:
            response = await self._agents.execute_tool(
                owner_id=self._owner_id, request=request, deadline=self._timeout
            )
        except PeerError as error:
            record.status = chat_pb2.TOOL_CALL_STATUS_REJECTED
            record.error_reason = error.reason or error.code.name
            record.error_message = "the tool call was refused"
            return False
        if response is None:
            record.status = chat_pb2.TOOL_CALL_STATUS_FAILED
            record.error_reason = "TOOL_UPSTREAM_ERROR"
            record.error_message = "the tool service is unavailable right now"
            return False
        record.status = _STATUS.get(response.status, chat_pb2.TOOL_CALL_STATUS_FAILED)
        record.result_json = response.result_json
        if response.error_reason:
            name = agent_service_pb2.ErrorReason.Name(response.error_reason)
            record.error_reason = name.removeprefix("ERROR_REASON_")
        record.error_message = response.error_message
        record.simulated = response.simulated
        record.duration_seconds = response.duration.ToTimedelta().total_seconds()
        record.action_id = response.action_id
        return (
            bool(response.handoff.id) and response.handoff.state == handoff_pb2.HANDOFF_STATE_OPEN
        )

"""What the reply pipeline records in the agent service's action log (skips, supersessions,
suppressions, replies, errors). Each record has an idempotency key derived from the inbound
message and the kind, so a redelivered message records nothing twice; when the agent service
cannot take it, the record goes to the log instead."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from inbetwin.agent.v1 import action_pb2

from services.kit.events import deterministic_id
from services.llm.peers.agent import AgentClient

log = logging.getLogger("inbetwin.llm.actions")


class ActionLog:
    def __init__(self, agents: AgentClient) -> None:
        self._agents = agents

    async def record(
        self,
        *,
        owner_id: str,
        kind: int,
        status: int,
        agent_id: str,
        integration_id: str,
        contact_id: str,
        message_id: str,
        reason: str = "",
        error_message: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        kind_name = action_pb2.ActionKind.Name(kind)
        action = action_pb2.AgentAction(
            agent_id=agent_id,
            integration_id=integration_id,
            contact_id=contact_id,
            message_id=message_id,
            kind=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            reason=reason,
            error_message=error_message[:2000],
        )
        if details:
            struct = struct_pb2.Struct()
            struct.update(dict(details))
            action.details.CopyFrom(struct)
        log.info(
            "reply action",
            extra={
                "kind": kind_name,
                "reason": reason,
                "owner_id": owner_id,
                "contact_id": contact_id,
                "message_id": message_id,
                "agent_id": agent_id,
            },
        )
        request_id = deterministic_id("llm-action", message_id, kind_name)
        await self._agents.record_action(owner_id=owner_id, action=action, request_id=request_id)

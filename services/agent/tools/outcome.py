"""What a tool run produces: a JSON result, or a failure with a reason for the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inbetwin.agent.v1 import action_pb2, handoff_pb2


class ToolFailure(Exception):  # noqa: N818 - a result, not a bug: it names what the model gets
    """A tool call that did not succeed: FAILED (tried) or REJECTED (refused before running).
    `message` is worded for the model: no secrets, no internal addresses."""

    def __init__(
        self, reason: str, message: str, *, rejected: bool = False, tool_kind: int = 0
    ) -> None:
        super().__init__(message)
        self.tool_kind = tool_kind
        self.reason = reason
        self.message = message
        self.status = (
            action_pb2.ACTION_STATUS_REJECTED if rejected else action_pb2.ACTION_STATUS_FAILED
        )


@dataclass
class ToolResult:
    value: dict[str, Any]
    handoff: handoff_pb2.Handoff | None = None
    details: dict[str, Any] = field(default_factory=dict)

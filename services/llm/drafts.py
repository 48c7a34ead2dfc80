"""What a provider produces for one reply, and what it reports while producing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from inbetwin.llm.v1 import chat_pb2


@dataclass(slots=True)
class ToolCallRecord:
    """One tool call of the model and its outcome, as given back to the model."""

    call_id: str
    name: str
    arguments_json: str
    step: int
    status: int = chat_pb2.TOOL_CALL_STATUS_UNSPECIFIED
    result_json: str = ""
    error_reason: str = ""
    error_message: str = ""
    simulated: bool = False
    duration_seconds: float = 0.0
    action_id: str = ""

    def content_for_model(self) -> str:
        if self.status == chat_pb2.TOOL_CALL_STATUS_SUCCEEDED:
            return self.result_json or "{}"
        return f'{{"error": "{self.error_reason or "FAILED"}", "message": {_json_str(self.error_message)}}}'


def _json_str(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


@dataclass(slots=True)
class Draft:
    """A finished reply (or the decision not to send one)."""

    text: str
    finish: int  # chat_pb2.FinishReason
    provider: int  # chat_pb2.Provider
    model: str
    fallback: bool = False
    escalation_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    model_calls: int = 0
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    citations: list[chat_pb2.Citation] = field(default_factory=list)
    handoff_opened: bool = False

    @property
    def escalates(self) -> bool:
        return self.finish in (
            chat_pb2.FINISH_REASON_ESCALATED,
            chat_pb2.FINISH_REASON_LIMIT,
            chat_pb2.FINISH_REASON_SUPPRESSED,
        )


class Observer(Protocol):
    """Told about a reply as it is produced (the playground streams it)."""

    async def delta(self, text: str, step: int) -> None: ...

    async def tool_call(self, record: ToolCallRecord) -> None: ...

    async def tool_result(self, record: ToolCallRecord) -> None: ...


class SilentObserver:
    async def delta(self, text: str, step: int) -> None:
        return None

    async def tool_call(self, record: ToolCallRecord) -> None:
        return None

    async def tool_result(self, record: ToolCallRecord) -> None:
        return None

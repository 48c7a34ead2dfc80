"""The agent as the reply pipeline needs it: prompt, model, sampling, tools. Built from the
agent service's Agent, or a default when that service cannot answer (no id, no tools)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from inbetwin.agent.v1 import agent_pb2, tool_pb2

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant answering a customer on behalf of a business. Be brief, "
    "friendly and accurate."
)
TONE_INSTRUCTIONS: dict[int, str] = {
    agent_pb2.TONE_NEUTRAL: "Write in a plain, matter-of-fact tone.",
    agent_pb2.TONE_FRIENDLY: "Write in a warm, approachable tone.",
    agent_pb2.TONE_FORMAL: "Write politely and formally (use formal address, e.g. Russian «Вы»).",
    agent_pb2.TONE_CASUAL: "Write in a relaxed, conversational tone.",
}


@dataclass(frozen=True, slots=True)
class AgentProfile:
    agent_id: str
    system_prompt: str
    model: str
    description: str = ""
    tone: int = agent_pb2.TONE_UNSPECIFIED
    language: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int = 0
    reply_delay_seconds: int = 0
    tools: tuple[tool_pb2.ToolDefinition, ...] = field(default_factory=tuple)

    def openai_tools(self) -> list[dict[str, Any]]:
        """The tools in the chat completions `tools` format."""
        offered: list[dict[str, Any]] = []
        for tool in self.tools:
            parameters = (
                json_format.MessageToDict(tool.parameters) if tool.HasField("parameters") else {}
            )
            if not parameters:
                parameters = {"type": "object", "properties": {}}
            offered.append(
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": parameters,
                    },
                }
            )
        return offered


def default_profile() -> AgentProfile:
    return AgentProfile(agent_id="", system_prompt=DEFAULT_SYSTEM_PROMPT, model="")


def profile_of(
    agent: agent_pb2.Agent, tools: list[tool_pb2.ToolDefinition] | None = None
) -> AgentProfile:
    generation = agent.generation
    return AgentProfile(
        agent_id=agent.id,
        system_prompt=agent.system_prompt or DEFAULT_SYSTEM_PROMPT,
        model=agent.model,
        description=agent.description,
        tone=agent.tone,
        language=agent.language,
        temperature=generation.temperature if generation.HasField("temperature") else None,
        top_p=generation.top_p if generation.HasField("top_p") else None,
        max_output_tokens=generation.max_output_tokens,
        reply_delay_seconds=agent.reply_delay_seconds,
        tools=tuple(tools or ()),
    )

"""The built-in tools as the model sees them: names, descriptions, argument schemas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from inbetwin.agent.v1 import tool_pb2

DATE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"
FACT_KEYS = (
    "name",
    "phone",
    "email",
    "company",
    "budget",
    "need",
    "timeline",
    "authority",
    "notes",
)


@dataclass(frozen=True, slots=True)
class Builtin:
    tool: int
    name: str
    description: str
    schema: dict[str, Any]
    providers: tuple[int, ...] = ()

    def info(self) -> tool_pb2.BuiltinToolInfo:
        parameters = struct_pb2.Struct()
        parameters.update(self.schema)
        return tool_pb2.BuiltinToolInfo(
            builtin=self.tool,  # type: ignore[arg-type]
            name=self.name,
            description=self.description,
            parameters=parameters,
            connection_providers=self.providers,  # type: ignore[arg-type]
        )


def _text(max_length: int, min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return schema


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO,
        "save_user_info",
        "Save facts you learned about the person you are talking to (name, phone, email, "
        "company, budget, need, timeline, decision authority, notes). Call it whenever you learn "
        "something new; only the facts given are changed.",
        {
            "type": "object",
            "properties": {key: _text(2000 if key == "notes" else 300, 1) for key in FACT_KEYS},
            "additionalProperties": False,
            "minProperties": 1,
        },
    ),
    Builtin(
        tool_pb2.BUILTIN_TOOL_CREATE_TASK,
        "create_task",
        "Create a follow-up task for the business owner in their task tracker.",
        {
            "type": "object",
            "properties": {
                "title": _text(200, 1),
                "description": _text(4000),
                "due_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            },
            "required": ["title"],
            "additionalProperties": False,
        },
        (tool_pb2.CONNECTION_PROVIDER_NOTION, tool_pb2.CONNECTION_PROVIDER_ASANA),
    ),
    Builtin(
        tool_pb2.BUILTIN_TOOL_SCHEDULE_EVENT,
        "schedule_event",
        "Book a meeting in the owner's calendar. Give the start as an ISO 8601 date-time with "
        "its UTC offset. Fails when the slot is outside working hours or already taken.",
        {
            "type": "object",
            "properties": {
                "title": _text(200, 1),
                "start_time": {"type": "string", "pattern": DATE_TIME},
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
                "attendee_email": _text(254),
                "description": _text(4000),
            },
            "required": ["title", "start_time"],
            "additionalProperties": False,
        },
        (tool_pb2.CONNECTION_PROVIDER_CALDAV, tool_pb2.CONNECTION_PROVIDER_GOOGLE_CALENDAR),
    ),
    Builtin(
        tool_pb2.BUILTIN_TOOL_CALL_OPERATOR,
        "call_operator",
        "Hand the conversation to a human. Use it when you cannot help or the person asks for a "
        "human. After it you must not answer in this conversation any more.",
        {
            "type": "object",
            "properties": {"reason": _text(1000, 1)},
            "required": ["reason"],
            "additionalProperties": False,
        },
    ),
)
BY_NAME = {builtin.name: builtin for builtin in BUILTINS}
BY_TOOL = {builtin.tool: builtin for builtin in BUILTINS}

import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.agent.v1 import tool_pb2 as _tool_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_KIND_UNSPECIFIED: _ClassVar[ActionKind]
    ACTION_KIND_TOOL_CALL: _ClassVar[ActionKind]
    ACTION_KIND_HANDOFF_REQUESTED: _ClassVar[ActionKind]
    ACTION_KIND_HANDOFF_RESOLVED: _ClassVar[ActionKind]
    ACTION_KIND_REPLY_SENT: _ClassVar[ActionKind]
    ACTION_KIND_REPLY_SUPPRESSED: _ClassVar[ActionKind]
    ACTION_KIND_REPLY_SKIPPED: _ClassVar[ActionKind]
    ACTION_KIND_REPLY_SUPERSEDED: _ClassVar[ActionKind]
    ACTION_KIND_ERROR: _ClassVar[ActionKind]

class ActionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_STATUS_UNSPECIFIED: _ClassVar[ActionStatus]
    ACTION_STATUS_STARTED: _ClassVar[ActionStatus]
    ACTION_STATUS_SUCCEEDED: _ClassVar[ActionStatus]
    ACTION_STATUS_FAILED: _ClassVar[ActionStatus]
    ACTION_STATUS_REJECTED: _ClassVar[ActionStatus]
ACTION_KIND_UNSPECIFIED: ActionKind
ACTION_KIND_TOOL_CALL: ActionKind
ACTION_KIND_HANDOFF_REQUESTED: ActionKind
ACTION_KIND_HANDOFF_RESOLVED: ActionKind
ACTION_KIND_REPLY_SENT: ActionKind
ACTION_KIND_REPLY_SUPPRESSED: ActionKind
ACTION_KIND_REPLY_SKIPPED: ActionKind
ACTION_KIND_REPLY_SUPERSEDED: ActionKind
ACTION_KIND_ERROR: ActionKind
ACTION_STATUS_UNSPECIFIED: ActionStatus
ACTION_STATUS_STARTED: ActionStatus
ACTION_STATUS_SUCCEEDED: ActionStatus
ACTION_STATUS_FAILED: ActionStatus
ACTION_STATUS_REJECTED: ActionStatus

class AgentAction(_message.Message):
    __slots__ = ("id", "agent_id", "integration_id", "contact_id", "message_id", "kind", "status", "tool_kind", "tool_name", "call_id", "details", "reason", "error_message", "duration", "dry_run", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOOL_KIND_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    integration_id: str
    contact_id: str
    message_id: str
    kind: ActionKind
    status: ActionStatus
    tool_kind: _tool_pb2.ToolKind
    tool_name: str
    call_id: str
    details: _struct_pb2.Struct
    reason: str
    error_message: str
    duration: _duration_pb2.Duration
    dry_run: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., message_id: _Optional[str] = ..., kind: _Optional[_Union[ActionKind, str]] = ..., status: _Optional[_Union[ActionStatus, str]] = ..., tool_kind: _Optional[_Union[_tool_pb2.ToolKind, str]] = ..., tool_name: _Optional[str] = ..., call_id: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., reason: _Optional[str] = ..., error_message: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dry_run: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HandoffState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDOFF_STATE_UNSPECIFIED: _ClassVar[HandoffState]
    HANDOFF_STATE_OPEN: _ClassVar[HandoffState]
    HANDOFF_STATE_RESOLVED: _ClassVar[HandoffState]

class HandoffRequester(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDOFF_REQUESTER_UNSPECIFIED: _ClassVar[HandoffRequester]
    HANDOFF_REQUESTER_AGENT_TOOL: _ClassVar[HandoffRequester]
    HANDOFF_REQUESTER_OWNER_MESSAGE: _ClassVar[HandoffRequester]
    HANDOFF_REQUESTER_OWNER_MANUAL: _ClassVar[HandoffRequester]
    HANDOFF_REQUESTER_GUARDRAIL: _ClassVar[HandoffRequester]

class ReplyBlock(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLY_BLOCK_UNSPECIFIED: _ClassVar[ReplyBlock]
    REPLY_BLOCK_HANDOFF_OPEN: _ClassVar[ReplyBlock]
    REPLY_BLOCK_AGENT_DISABLED: _ClassVar[ReplyBlock]
    REPLY_BLOCK_OUTSIDE_WORKING_HOURS: _ClassVar[ReplyBlock]
    REPLY_BLOCK_INTEGRATION_NOT_SERVED: _ClassVar[ReplyBlock]
HANDOFF_STATE_UNSPECIFIED: HandoffState
HANDOFF_STATE_OPEN: HandoffState
HANDOFF_STATE_RESOLVED: HandoffState
HANDOFF_REQUESTER_UNSPECIFIED: HandoffRequester
HANDOFF_REQUESTER_AGENT_TOOL: HandoffRequester
HANDOFF_REQUESTER_OWNER_MESSAGE: HandoffRequester
HANDOFF_REQUESTER_OWNER_MANUAL: HandoffRequester
HANDOFF_REQUESTER_GUARDRAIL: HandoffRequester
REPLY_BLOCK_UNSPECIFIED: ReplyBlock
REPLY_BLOCK_HANDOFF_OPEN: ReplyBlock
REPLY_BLOCK_AGENT_DISABLED: ReplyBlock
REPLY_BLOCK_OUTSIDE_WORKING_HOURS: ReplyBlock
REPLY_BLOCK_INTEGRATION_NOT_SERVED: ReplyBlock

class Handoff(_message.Message):
    __slots__ = ("id", "agent_id", "integration_id", "contact_id", "reason", "state", "requested_by", "request_action_id", "resolution_note", "create_time", "resolve_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    integration_id: str
    contact_id: str
    reason: str
    state: HandoffState
    requested_by: HandoffRequester
    request_action_id: str
    resolution_note: str
    create_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., reason: _Optional[str] = ..., state: _Optional[_Union[HandoffState, str]] = ..., requested_by: _Optional[_Union[HandoffRequester, str]] = ..., request_action_id: _Optional[str] = ..., resolution_note: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConversationControl(_message.Message):
    __slots__ = ("integration_id", "contact_id", "may_reply", "blocks", "open_handoff", "next_window_start_time")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    MAY_REPLY_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    OPEN_HANDOFF_FIELD_NUMBER: _ClassVar[int]
    NEXT_WINDOW_START_TIME_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    contact_id: str
    may_reply: bool
    blocks: _containers.RepeatedScalarFieldContainer[ReplyBlock]
    open_handoff: Handoff
    next_window_start_time: _timestamp_pb2.Timestamp
    def __init__(self, integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., may_reply: _Optional[bool] = ..., blocks: _Optional[_Iterable[_Union[ReplyBlock, str]]] = ..., open_handoff: _Optional[_Union[Handoff, _Mapping]] = ..., next_window_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

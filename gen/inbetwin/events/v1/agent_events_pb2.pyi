import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.agent.v1 import action_pb2 as _action_pb2
from inbetwin.agent.v1 import handoff_pb2 as _handoff_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentActionLogged(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "action")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    action: _action_pb2.AgentAction
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[_Union[_action_pb2.AgentAction, _Mapping]] = ...) -> None: ...

class HandoffRequested(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "handoff")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    handoff: _handoff_pb2.Handoff
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ...) -> None: ...

class HandoffResolved(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "handoff")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    handoff: _handoff_pb2.Handoff
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ...) -> None: ...

class UserInfoSaved(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "contact_id", "facts", "source_message_id")
    class FactsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    contact_id: str
    facts: _containers.ScalarMap[str, str]
    source_message_id: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., facts: _Optional[_Mapping[str, str]] = ..., source_message_id: _Optional[str] = ...) -> None: ...

class AgentConfigChanged(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "agent_id", "version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    agent_id: str
    version: int
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., agent_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

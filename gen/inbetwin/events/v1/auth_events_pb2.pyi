import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserRegistered(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "email", "sign_in_method")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SIGN_IN_METHOD_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    email: str
    sign_in_method: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., email: _Optional[str] = ..., sign_in_method: _Optional[str] = ...) -> None: ...

class SubscriptionUpdated(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "plan", "max_agents", "max_integrations", "max_messages_per_month", "max_knowledge_base_bytes", "version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MAX_AGENTS_FIELD_NUMBER: _ClassVar[int]
    MAX_INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    MAX_KNOWLEDGE_BASE_BYTES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    plan: str
    max_agents: int
    max_integrations: int
    max_messages_per_month: int
    max_knowledge_base_bytes: int
    version: int
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., plan: _Optional[str] = ..., max_agents: _Optional[int] = ..., max_integrations: _Optional[int] = ..., max_messages_per_month: _Optional[int] = ..., max_knowledge_base_bytes: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

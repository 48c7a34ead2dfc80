import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.social.v1 import integration_pb2 as _integration_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentAccess(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_ACCESS_UNSPECIFIED: _ClassVar[AgentAccess]
    AGENT_ACCESS_INHERIT: _ClassVar[AgentAccess]
    AGENT_ACCESS_ALLOWED: _ClassVar[AgentAccess]
    AGENT_ACCESS_DENIED: _ClassVar[AgentAccess]
AGENT_ACCESS_UNSPECIFIED: AgentAccess
AGENT_ACCESS_INHERIT: AgentAccess
AGENT_ACCESS_ALLOWED: AgentAccess
AGENT_ACCESS_DENIED: AgentAccess

class Contact(_message.Message):
    __slots__ = ("id", "integration_id", "platform", "platform_user_id", "display_name", "platform_display_name", "username", "avatar_url", "agent_access", "agent_allowed", "agent_paused", "agent_pause_time", "reachable", "last_message_time", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_URL_FIELD_NUMBER: _ClassVar[int]
    AGENT_ACCESS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    AGENT_PAUSED_FIELD_NUMBER: _ClassVar[int]
    AGENT_PAUSE_TIME_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    platform: _integration_pb2.Platform
    platform_user_id: str
    display_name: str
    platform_display_name: str
    username: str
    avatar_url: str
    agent_access: AgentAccess
    agent_allowed: bool
    agent_paused: bool
    agent_pause_time: _timestamp_pb2.Timestamp
    reachable: bool
    last_message_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., platform: _Optional[_Union[_integration_pb2.Platform, str]] = ..., platform_user_id: _Optional[str] = ..., display_name: _Optional[str] = ..., platform_display_name: _Optional[str] = ..., username: _Optional[str] = ..., avatar_url: _Optional[str] = ..., agent_access: _Optional[_Union[AgentAccess, str]] = ..., agent_allowed: _Optional[bool] = ..., agent_paused: _Optional[bool] = ..., agent_pause_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reachable: _Optional[bool] = ..., last_message_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

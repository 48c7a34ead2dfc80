import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from inbetwin.social.v1 import contact_pb2 as _contact_pb2
from inbetwin.social.v1 import integration_pb2 as _integration_pb2
from inbetwin.social.v1 import message_pb2 as _message_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageReceived(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "message", "contact", "platform", "agent_may_reply", "stale")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    AGENT_MAY_REPLY_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    message: _message_pb2.Message
    contact: _contact_pb2.Contact
    platform: _integration_pb2.Platform
    agent_may_reply: bool
    stale: bool
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ..., platform: _Optional[_Union[_integration_pb2.Platform, str]] = ..., agent_may_reply: _Optional[bool] = ..., stale: _Optional[bool] = ...) -> None: ...

class MessageSent(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "message", "reply_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    message: _message_pb2.Message
    reply_id: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., reply_id: _Optional[str] = ...) -> None: ...

class MessageSendFailed(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "reply_id", "contact_id", "error_message", "permanent")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    REPLY_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    reply_id: str
    contact_id: str
    error_message: str
    permanent: bool
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., error_message: _Optional[str] = ..., permanent: _Optional[bool] = ...) -> None: ...

class IntegrationConnected(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "integration")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    integration: _integration_pb2.Integration
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ...) -> None: ...

class IntegrationDisconnected(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "integration_id", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    integration_id: str
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., integration_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ContactUpdated(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "contact", "change")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    contact: _contact_pb2.Contact
    change: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ..., change: _Optional[str] = ...) -> None: ...

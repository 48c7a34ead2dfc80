import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Usage(_message.Message):
    __slots__ = ("period", "start_time", "end_time", "input_tokens", "output_tokens", "messages_answered", "message_limit", "messages_remaining", "playground_input_tokens", "playground_output_tokens", "playground_replies", "agents", "update_time")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_REMAINING_FIELD_NUMBER: _ClassVar[int]
    PLAYGROUND_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PLAYGROUND_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PLAYGROUND_REPLIES_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    period: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    input_tokens: int
    output_tokens: int
    messages_answered: int
    message_limit: int
    messages_remaining: int
    playground_input_tokens: int
    playground_output_tokens: int
    playground_replies: int
    agents: _containers.RepeatedCompositeFieldContainer[AgentUsage]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, period: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., messages_answered: _Optional[int] = ..., message_limit: _Optional[int] = ..., messages_remaining: _Optional[int] = ..., playground_input_tokens: _Optional[int] = ..., playground_output_tokens: _Optional[int] = ..., playground_replies: _Optional[int] = ..., agents: _Optional[_Iterable[_Union[AgentUsage, _Mapping]]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AgentUsage(_message.Message):
    __slots__ = ("agent_id", "input_tokens", "output_tokens", "messages_answered")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    input_tokens: int
    output_tokens: int
    messages_answered: int
    def __init__(self, agent_id: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., messages_answered: _Optional[int] = ...) -> None: ...

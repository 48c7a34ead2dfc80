from google.api import annotations_pb2 as _annotations_pb2
from inbetwin.llm.v1 import chat_pb2 as _chat_pb2
from inbetwin.llm.v1 import model_pb2 as _model_pb2
from inbetwin.llm.v1 import usage_pb2 as _usage_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_AGENT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_CONTACT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_LAST_MESSAGE_NOT_FROM_USER: _ClassVar[ErrorReason]
    ERROR_REASON_PLAYGROUND_RATE_LIMITED: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_NOT_CONFIGURED: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_TIMEOUT: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_RATE_LIMITED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_PAGE_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_PERIOD_OUT_OF_RANGE: _ClassVar[ErrorReason]
    ERROR_REASON_MESSAGE_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_CONTACT_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_CONVERSATION_HANDED_OFF: _ClassVar[ErrorReason]
    ERROR_REASON_AGENT_DISABLED: _ClassVar[ErrorReason]
    ERROR_REASON_OUTSIDE_WORKING_HOURS: _ClassVar[ErrorReason]
    ERROR_REASON_NO_AGENT_FOR_INTEGRATION: _ClassVar[ErrorReason]
    ERROR_REASON_REPLY_SUPERSEDED: _ClassVar[ErrorReason]
    ERROR_REASON_REPLY_UNSAFE: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_CALL_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_REPEATED_TOOL_CALL: _ClassVar[ErrorReason]
    ERROR_REASON_TOKEN_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_MALFORMED_TOOL_CALL: _ClassVar[ErrorReason]
    ERROR_REASON_OFFLINE_NOT_CONFIDENT: _ClassVar[ErrorReason]
    ERROR_REASON_OPERATOR_REQUESTED: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_AGENT_NOT_FOUND: ErrorReason
ERROR_REASON_CONTACT_NOT_FOUND: ErrorReason
ERROR_REASON_LAST_MESSAGE_NOT_FROM_USER: ErrorReason
ERROR_REASON_PLAYGROUND_RATE_LIMITED: ErrorReason
ERROR_REASON_MODEL_NOT_CONFIGURED: ErrorReason
ERROR_REASON_MODEL_UNAVAILABLE: ErrorReason
ERROR_REASON_MODEL_TIMEOUT: ErrorReason
ERROR_REASON_MODEL_RATE_LIMITED: ErrorReason
ERROR_REASON_INVALID_PAGE_TOKEN: ErrorReason
ERROR_REASON_PERIOD_OUT_OF_RANGE: ErrorReason
ERROR_REASON_MESSAGE_LIMIT_REACHED: ErrorReason
ERROR_REASON_CONTACT_NOT_ALLOWED: ErrorReason
ERROR_REASON_CONVERSATION_HANDED_OFF: ErrorReason
ERROR_REASON_AGENT_DISABLED: ErrorReason
ERROR_REASON_OUTSIDE_WORKING_HOURS: ErrorReason
ERROR_REASON_NO_AGENT_FOR_INTEGRATION: ErrorReason
ERROR_REASON_REPLY_SUPERSEDED: ErrorReason
ERROR_REASON_REPLY_UNSAFE: ErrorReason
ERROR_REASON_STEP_LIMIT_REACHED: ErrorReason
ERROR_REASON_TOOL_CALL_LIMIT_REACHED: ErrorReason
ERROR_REASON_REPEATED_TOOL_CALL: ErrorReason
ERROR_REASON_TOKEN_LIMIT_REACHED: ErrorReason
ERROR_REASON_MALFORMED_TOOL_CALL: ErrorReason
ERROR_REASON_OFFLINE_NOT_CONFIDENT: ErrorReason
ERROR_REASON_OPERATOR_REQUESTED: ErrorReason

class ChatRequest(_message.Message):
    __slots__ = ("agent_id", "messages", "contact", "live_tools", "system_prompt_override", "model_override")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    LIVE_TOOLS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    MODEL_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    messages: _containers.RepeatedCompositeFieldContainer[_chat_pb2.ChatMessage]
    contact: _chat_pb2.PlaygroundContact
    live_tools: bool
    system_prompt_override: str
    model_override: str
    def __init__(self, agent_id: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_chat_pb2.ChatMessage, _Mapping]]] = ..., contact: _Optional[_Union[_chat_pb2.PlaygroundContact, _Mapping]] = ..., live_tools: _Optional[bool] = ..., system_prompt_override: _Optional[str] = ..., model_override: _Optional[str] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("delta", "tool_call", "tool_result", "citation", "final", "error", "end")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    delta: _chat_pb2.TokenDelta
    tool_call: _chat_pb2.ChatToolCall
    tool_result: _chat_pb2.ChatToolResult
    citation: _chat_pb2.Citation
    final: _chat_pb2.ChatFinal
    error: _chat_pb2.ChatError
    end: _chat_pb2.ChatEnd
    def __init__(self, delta: _Optional[_Union[_chat_pb2.TokenDelta, _Mapping]] = ..., tool_call: _Optional[_Union[_chat_pb2.ChatToolCall, _Mapping]] = ..., tool_result: _Optional[_Union[_chat_pb2.ChatToolResult, _Mapping]] = ..., citation: _Optional[_Union[_chat_pb2.Citation, _Mapping]] = ..., final: _Optional[_Union[_chat_pb2.ChatFinal, _Mapping]] = ..., error: _Optional[_Union[_chat_pb2.ChatError, _Mapping]] = ..., end: _Optional[_Union[_chat_pb2.ChatEnd, _Mapping]] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("period",)
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    period: str
    def __init__(self, period: _Optional[str] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("usage",)
    USAGE_FIELD_NUMBER: _ClassVar[int]
    usage: _usage_pb2.Usage
    def __init__(self, usage: _Optional[_Union[_usage_pb2.Usage, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "next_page_token")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_model_pb2.Model]
    next_page_token: str
    def __init__(self, models: _Optional[_Iterable[_Union[_model_pb2.Model, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

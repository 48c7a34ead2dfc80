import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.rpc import code_pb2 as _code_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChatRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_ROLE_UNSPECIFIED: _ClassVar[ChatRole]
    CHAT_ROLE_USER: _ClassVar[ChatRole]
    CHAT_ROLE_ASSISTANT: _ClassVar[ChatRole]

class Provider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_UNSPECIFIED: _ClassVar[Provider]
    PROVIDER_OPENAI_COMPATIBLE: _ClassVar[Provider]
    PROVIDER_OFFLINE: _ClassVar[Provider]

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINISH_REASON_UNSPECIFIED: _ClassVar[FinishReason]
    FINISH_REASON_STOP: _ClassVar[FinishReason]
    FINISH_REASON_LENGTH: _ClassVar[FinishReason]
    FINISH_REASON_LIMIT: _ClassVar[FinishReason]
    FINISH_REASON_ESCALATED: _ClassVar[FinishReason]
    FINISH_REASON_SUPPRESSED: _ClassVar[FinishReason]

class Sentiment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENTIMENT_UNSPECIFIED: _ClassVar[Sentiment]
    SENTIMENT_POSITIVE: _ClassVar[Sentiment]
    SENTIMENT_NEUTRAL: _ClassVar[Sentiment]
    SENTIMENT_NEGATIVE: _ClassVar[Sentiment]

class ToolCallStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOOL_CALL_STATUS_UNSPECIFIED: _ClassVar[ToolCallStatus]
    TOOL_CALL_STATUS_SUCCEEDED: _ClassVar[ToolCallStatus]
    TOOL_CALL_STATUS_FAILED: _ClassVar[ToolCallStatus]
    TOOL_CALL_STATUS_REJECTED: _ClassVar[ToolCallStatus]
CHAT_ROLE_UNSPECIFIED: ChatRole
CHAT_ROLE_USER: ChatRole
CHAT_ROLE_ASSISTANT: ChatRole
PROVIDER_UNSPECIFIED: Provider
PROVIDER_OPENAI_COMPATIBLE: Provider
PROVIDER_OFFLINE: Provider
FINISH_REASON_UNSPECIFIED: FinishReason
FINISH_REASON_STOP: FinishReason
FINISH_REASON_LENGTH: FinishReason
FINISH_REASON_LIMIT: FinishReason
FINISH_REASON_ESCALATED: FinishReason
FINISH_REASON_SUPPRESSED: FinishReason
SENTIMENT_UNSPECIFIED: Sentiment
SENTIMENT_POSITIVE: Sentiment
SENTIMENT_NEUTRAL: Sentiment
SENTIMENT_NEGATIVE: Sentiment
TOOL_CALL_STATUS_UNSPECIFIED: ToolCallStatus
TOOL_CALL_STATUS_SUCCEEDED: ToolCallStatus
TOOL_CALL_STATUS_FAILED: ToolCallStatus
TOOL_CALL_STATUS_REJECTED: ToolCallStatus

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: ChatRole
    content: str
    def __init__(self, role: _Optional[_Union[ChatRole, str]] = ..., content: _Optional[str] = ...) -> None: ...

class PlaygroundContact(_message.Message):
    __slots__ = ("contact_id", "display_name", "language", "integration_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    display_name: str
    language: str
    integration_id: str
    def __init__(self, contact_id: _Optional[str] = ..., display_name: _Optional[str] = ..., language: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class TokenDelta(_message.Message):
    __slots__ = ("text", "step")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    text: str
    step: int
    def __init__(self, text: _Optional[str] = ..., step: _Optional[int] = ...) -> None: ...

class ChatToolCall(_message.Message):
    __slots__ = ("call_id", "name", "arguments_json", "step")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    name: str
    arguments_json: str
    step: int
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., arguments_json: _Optional[str] = ..., step: _Optional[int] = ...) -> None: ...

class ChatToolResult(_message.Message):
    __slots__ = ("call_id", "name", "status", "result_json", "error_reason", "error_message", "simulated", "duration", "action_id")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    name: str
    status: ToolCallStatus
    result_json: str
    error_reason: str
    error_message: str
    simulated: bool
    duration: _duration_pb2.Duration
    action_id: str
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[ToolCallStatus, str]] = ..., result_json: _Optional[str] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., simulated: _Optional[bool] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., action_id: _Optional[str] = ...) -> None: ...

class Citation(_message.Message):
    __slots__ = ("score", "knowledge_base_id", "document_id", "file_name", "chunk_id", "char_start", "char_end", "page_number", "qa_pair_id", "question", "snippet")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    QA_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    score: float
    knowledge_base_id: str
    document_id: str
    file_name: str
    chunk_id: str
    char_start: int
    char_end: int
    page_number: int
    qa_pair_id: str
    question: str
    snippet: str
    def __init__(self, score: _Optional[float] = ..., knowledge_base_id: _Optional[str] = ..., document_id: _Optional[str] = ..., file_name: _Optional[str] = ..., chunk_id: _Optional[str] = ..., char_start: _Optional[int] = ..., char_end: _Optional[int] = ..., page_number: _Optional[int] = ..., qa_pair_id: _Optional[str] = ..., question: _Optional[str] = ..., snippet: _Optional[str] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "model_calls", "tool_calls")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    model_calls: int
    tool_calls: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., model_calls: _Optional[int] = ..., tool_calls: _Optional[int] = ...) -> None: ...

class SafetyCheck(_message.Message):
    __slots__ = ("flagged", "categories", "checker")
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    CHECKER_FIELD_NUMBER: _ClassVar[int]
    flagged: bool
    categories: _containers.RepeatedScalarFieldContainer[str]
    checker: str
    def __init__(self, flagged: _Optional[bool] = ..., categories: _Optional[_Iterable[str]] = ..., checker: _Optional[str] = ...) -> None: ...

class ChatFinal(_message.Message):
    __slots__ = ("text", "finish_reason", "provider", "fallback", "model", "usage", "sentiment", "safety", "escalation_reason", "part_count", "duration")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SAFETY_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_REASON_FIELD_NUMBER: _ClassVar[int]
    PART_COUNT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    text: str
    finish_reason: FinishReason
    provider: Provider
    fallback: bool
    model: str
    usage: TokenUsage
    sentiment: Sentiment
    safety: SafetyCheck
    escalation_reason: str
    part_count: int
    duration: _duration_pb2.Duration
    def __init__(self, text: _Optional[str] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., provider: _Optional[_Union[Provider, str]] = ..., fallback: _Optional[bool] = ..., model: _Optional[str] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., sentiment: _Optional[_Union[Sentiment, str]] = ..., safety: _Optional[_Union[SafetyCheck, _Mapping]] = ..., escalation_reason: _Optional[str] = ..., part_count: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ChatError(_message.Message):
    __slots__ = ("code", "reason", "message", "retryable")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: _code_pb2.Code
    reason: str
    message: str
    retryable: bool
    def __init__(self, code: _Optional[_Union[_code_pb2.Code, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class ChatEnd(_message.Message):
    __slots__ = ("completed",)
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    completed: bool
    def __init__(self, completed: _Optional[bool] = ...) -> None: ...

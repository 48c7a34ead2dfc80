from inbetwin.llm.v1 import chat_pb2 as _chat_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Model(_message.Message):
    __slots__ = ("id", "display_name", "provider", "is_default", "supports_tools", "context_window_tokens")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_TOOLS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    provider: _chat_pb2.Provider
    is_default: bool
    supports_tools: bool
    context_window_tokens: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., provider: _Optional[_Union[_chat_pb2.Provider, str]] = ..., is_default: _Optional[bool] = ..., supports_tools: _Optional[bool] = ..., context_window_tokens: _Optional[int] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from inbetwin.rag.v1 import document_pb2 as _document_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentUploaded(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "document_id", "revision")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    document_id: str
    revision: int
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class DocumentIndexed(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "document")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    document: _document_pb2.Document
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document: _Optional[_Union[_document_pb2.Document, _Mapping]] = ...) -> None: ...

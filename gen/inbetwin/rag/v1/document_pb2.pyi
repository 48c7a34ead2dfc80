import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_STATUS_UNSPECIFIED: _ClassVar[DocumentStatus]
    DOCUMENT_STATUS_PENDING: _ClassVar[DocumentStatus]
    DOCUMENT_STATUS_INDEXING: _ClassVar[DocumentStatus]
    DOCUMENT_STATUS_READY: _ClassVar[DocumentStatus]
    DOCUMENT_STATUS_FAILED: _ClassVar[DocumentStatus]

class DocumentFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_FAILURE_REASON_UNSPECIFIED: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_EMPTY: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_CORRUPT: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_ENCRYPTED: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_TOO_LARGE: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_NO_TEXT: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_EMBEDDING_FAILED: _ClassVar[DocumentFailureReason]
    DOCUMENT_FAILURE_REASON_INTERNAL: _ClassVar[DocumentFailureReason]
DOCUMENT_STATUS_UNSPECIFIED: DocumentStatus
DOCUMENT_STATUS_PENDING: DocumentStatus
DOCUMENT_STATUS_INDEXING: DocumentStatus
DOCUMENT_STATUS_READY: DocumentStatus
DOCUMENT_STATUS_FAILED: DocumentStatus
DOCUMENT_FAILURE_REASON_UNSPECIFIED: DocumentFailureReason
DOCUMENT_FAILURE_REASON_EMPTY: DocumentFailureReason
DOCUMENT_FAILURE_REASON_CORRUPT: DocumentFailureReason
DOCUMENT_FAILURE_REASON_ENCRYPTED: DocumentFailureReason
DOCUMENT_FAILURE_REASON_TOO_LARGE: DocumentFailureReason
DOCUMENT_FAILURE_REASON_NO_TEXT: DocumentFailureReason
DOCUMENT_FAILURE_REASON_EMBEDDING_FAILED: DocumentFailureReason
DOCUMENT_FAILURE_REASON_INTERNAL: DocumentFailureReason

class IndexingProgress(_message.Message):
    __slots__ = ("chunks_done", "chunks_total")
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    chunks_done: int
    chunks_total: int
    def __init__(self, chunks_done: _Optional[int] = ..., chunks_total: _Optional[int] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("id", "knowledge_base_id", "file_name", "content_type", "size_bytes", "sha256", "status", "failure_reason", "failure_message", "progress", "chunk_count", "embedding_model", "create_time", "update_time", "index_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INDEX_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    knowledge_base_id: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    failure_reason: DocumentFailureReason
    failure_message: str
    progress: IndexingProgress
    chunk_count: int
    embedding_model: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    index_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., knowledge_base_id: _Optional[str] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., status: _Optional[_Union[DocumentStatus, str]] = ..., failure_reason: _Optional[_Union[DocumentFailureReason, str]] = ..., failure_message: _Optional[str] = ..., progress: _Optional[_Union[IndexingProgress, _Mapping]] = ..., chunk_count: _Optional[int] = ..., embedding_model: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., index_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

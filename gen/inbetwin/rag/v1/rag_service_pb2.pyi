import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from inbetwin.rag.v1 import document_pb2 as _document_pb2
from inbetwin.rag.v1 import knowledge_base_pb2 as _knowledge_base_pb2
from inbetwin.rag.v1 import qa_pair_pb2 as _qa_pair_pb2
from inbetwin.rag.v1 import search_pb2 as _search_pb2
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
    ERROR_REASON_KNOWLEDGE_BASE_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_DOCUMENT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_QA_PAIR_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_CONTENT_TYPE: _ClassVar[ErrorReason]
    ERROR_REASON_DOCUMENT_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_KNOWLEDGE_BASE_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_STORAGE_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_KNOWLEDGE_BASE_NOT_EMPTY: _ClassVar[ErrorReason]
    ERROR_REASON_AGENT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_INDEXING_IN_PROGRESS: _ClassVar[ErrorReason]
    ERROR_REASON_QUESTION_TAKEN: _ClassVar[ErrorReason]
    ERROR_REASON_EMBEDDING_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_PAGE_TOKEN_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_WATCH_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_VECTOR_STORE_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_ENTITLEMENTS_UNAVAILABLE: _ClassVar[ErrorReason]

class UploadOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPLOAD_OUTCOME_UNSPECIFIED: _ClassVar[UploadOutcome]
    UPLOAD_OUTCOME_CREATED: _ClassVar[UploadOutcome]
    UPLOAD_OUTCOME_REPLACED: _ClassVar[UploadOutcome]
    UPLOAD_OUTCOME_UNCHANGED: _ClassVar[UploadOutcome]

class StreamEndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_END_REASON_UNSPECIFIED: _ClassVar[StreamEndReason]
    STREAM_END_REASON_FINISHED: _ClassVar[StreamEndReason]
    STREAM_END_REASON_DELETED: _ClassVar[StreamEndReason]
    STREAM_END_REASON_MAX_DURATION: _ClassVar[StreamEndReason]
    STREAM_END_REASON_SERVER_SHUTDOWN: _ClassVar[StreamEndReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_KNOWLEDGE_BASE_NOT_FOUND: ErrorReason
ERROR_REASON_DOCUMENT_NOT_FOUND: ErrorReason
ERROR_REASON_QA_PAIR_NOT_FOUND: ErrorReason
ERROR_REASON_UNSUPPORTED_CONTENT_TYPE: ErrorReason
ERROR_REASON_DOCUMENT_TOO_LARGE: ErrorReason
ERROR_REASON_KNOWLEDGE_BASE_LIMIT_REACHED: ErrorReason
ERROR_REASON_STORAGE_LIMIT_REACHED: ErrorReason
ERROR_REASON_KNOWLEDGE_BASE_NOT_EMPTY: ErrorReason
ERROR_REASON_AGENT_NOT_FOUND: ErrorReason
ERROR_REASON_FIELD_NOT_UPDATABLE: ErrorReason
ERROR_REASON_INDEXING_IN_PROGRESS: ErrorReason
ERROR_REASON_QUESTION_TAKEN: ErrorReason
ERROR_REASON_EMBEDDING_UNAVAILABLE: ErrorReason
ERROR_REASON_PAGE_TOKEN_INVALID: ErrorReason
ERROR_REASON_WATCH_LIMIT_REACHED: ErrorReason
ERROR_REASON_VECTOR_STORE_UNAVAILABLE: ErrorReason
ERROR_REASON_ENTITLEMENTS_UNAVAILABLE: ErrorReason
UPLOAD_OUTCOME_UNSPECIFIED: UploadOutcome
UPLOAD_OUTCOME_CREATED: UploadOutcome
UPLOAD_OUTCOME_REPLACED: UploadOutcome
UPLOAD_OUTCOME_UNCHANGED: UploadOutcome
STREAM_END_REASON_UNSPECIFIED: StreamEndReason
STREAM_END_REASON_FINISHED: StreamEndReason
STREAM_END_REASON_DELETED: StreamEndReason
STREAM_END_REASON_MAX_DURATION: StreamEndReason
STREAM_END_REASON_SERVER_SHUTDOWN: StreamEndReason

class CreateKnowledgeBaseRequest(_message.Message):
    __slots__ = ("knowledge_base", "request_id")
    KNOWLEDGE_BASE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    knowledge_base: _knowledge_base_pb2.KnowledgeBase
    request_id: str
    def __init__(self, knowledge_base: _Optional[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateKnowledgeBaseResponse(_message.Message):
    __slots__ = ("knowledge_base",)
    KNOWLEDGE_BASE_FIELD_NUMBER: _ClassVar[int]
    knowledge_base: _knowledge_base_pb2.KnowledgeBase
    def __init__(self, knowledge_base: _Optional[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]] = ...) -> None: ...

class GetKnowledgeBaseRequest(_message.Message):
    __slots__ = ("knowledge_base_id",)
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    def __init__(self, knowledge_base_id: _Optional[str] = ...) -> None: ...

class GetKnowledgeBaseResponse(_message.Message):
    __slots__ = ("knowledge_base",)
    KNOWLEDGE_BASE_FIELD_NUMBER: _ClassVar[int]
    knowledge_base: _knowledge_base_pb2.KnowledgeBase
    def __init__(self, knowledge_base: _Optional[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]] = ...) -> None: ...

class ListKnowledgeBasesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListKnowledgeBasesResponse(_message.Message):
    __slots__ = ("knowledge_bases", "next_page_token")
    KNOWLEDGE_BASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    knowledge_bases: _containers.RepeatedCompositeFieldContainer[_knowledge_base_pb2.KnowledgeBase]
    next_page_token: str
    def __init__(self, knowledge_bases: _Optional[_Iterable[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateKnowledgeBaseRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "knowledge_base", "update_mask")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_BASE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    knowledge_base: _knowledge_base_pb2.KnowledgeBase
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, knowledge_base_id: _Optional[str] = ..., knowledge_base: _Optional[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateKnowledgeBaseResponse(_message.Message):
    __slots__ = ("knowledge_base",)
    KNOWLEDGE_BASE_FIELD_NUMBER: _ClassVar[int]
    knowledge_base: _knowledge_base_pb2.KnowledgeBase
    def __init__(self, knowledge_base: _Optional[_Union[_knowledge_base_pb2.KnowledgeBase, _Mapping]] = ...) -> None: ...

class DeleteKnowledgeBaseRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "force")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    force: bool
    def __init__(self, knowledge_base_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteKnowledgeBaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UploadDocumentRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "body", "file_name")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    body: _httpbody_pb2.HttpBody
    file_name: str
    def __init__(self, knowledge_base_id: _Optional[str] = ..., body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ..., file_name: _Optional[str] = ...) -> None: ...

class UploadDocumentResponse(_message.Message):
    __slots__ = ("document", "outcome")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    document: _document_pb2.Document
    outcome: UploadOutcome
    def __init__(self, document: _Optional[_Union[_document_pb2.Document, _Mapping]] = ..., outcome: _Optional[_Union[UploadOutcome, str]] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: _document_pb2.Document
    def __init__(self, document: _Optional[_Union[_document_pb2.Document, _Mapping]] = ...) -> None: ...

class ListDocumentsRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "page_size", "page_token", "statuses", "file_name_contains")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[_document_pb2.DocumentStatus]
    file_name_contains: str
    def __init__(self, knowledge_base_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_document_pb2.DocumentStatus, str]]] = ..., file_name_contains: _Optional[str] = ...) -> None: ...

class ListDocumentsResponse(_message.Message):
    __slots__ = ("documents", "next_page_token")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[_document_pb2.Document]
    next_page_token: str
    def __init__(self, documents: _Optional[_Iterable[_Union[_document_pb2.Document, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReindexDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class ReindexDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: _document_pb2.Document
    def __init__(self, document: _Optional[_Union[_document_pb2.Document, _Mapping]] = ...) -> None: ...

class WatchDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class WatchDocumentResponse(_message.Message):
    __slots__ = ("document", "heartbeat", "end", "error")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    document: _document_pb2.Document
    heartbeat: StreamHeartbeat
    end: StreamEnd
    error: StreamError
    def __init__(self, document: _Optional[_Union[_document_pb2.Document, _Mapping]] = ..., heartbeat: _Optional[_Union[StreamHeartbeat, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class StreamHeartbeat(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: StreamEndReason
    def __init__(self, reason: _Optional[_Union[StreamEndReason, str]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _status_pb2.Status
    def __init__(self, status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class DownloadDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class DownloadDocumentResponse(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class CreateQaPairRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "qa_pair", "request_id")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    qa_pair: _qa_pair_pb2.QaPair
    request_id: str
    def __init__(self, knowledge_base_id: _Optional[str] = ..., qa_pair: _Optional[_Union[_qa_pair_pb2.QaPair, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateQaPairResponse(_message.Message):
    __slots__ = ("qa_pair",)
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    qa_pair: _qa_pair_pb2.QaPair
    def __init__(self, qa_pair: _Optional[_Union[_qa_pair_pb2.QaPair, _Mapping]] = ...) -> None: ...

class GetQaPairRequest(_message.Message):
    __slots__ = ("qa_pair_id",)
    QA_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    qa_pair_id: str
    def __init__(self, qa_pair_id: _Optional[str] = ...) -> None: ...

class GetQaPairResponse(_message.Message):
    __slots__ = ("qa_pair",)
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    qa_pair: _qa_pair_pb2.QaPair
    def __init__(self, qa_pair: _Optional[_Union[_qa_pair_pb2.QaPair, _Mapping]] = ...) -> None: ...

class ListQaPairsRequest(_message.Message):
    __slots__ = ("knowledge_base_id", "page_size", "page_token", "query")
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    knowledge_base_id: str
    page_size: int
    page_token: str
    query: str
    def __init__(self, knowledge_base_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListQaPairsResponse(_message.Message):
    __slots__ = ("qa_pairs", "next_page_token")
    QA_PAIRS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    qa_pairs: _containers.RepeatedCompositeFieldContainer[_qa_pair_pb2.QaPair]
    next_page_token: str
    def __init__(self, qa_pairs: _Optional[_Iterable[_Union[_qa_pair_pb2.QaPair, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateQaPairRequest(_message.Message):
    __slots__ = ("qa_pair_id", "qa_pair", "update_mask")
    QA_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    qa_pair_id: str
    qa_pair: _qa_pair_pb2.QaPair
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, qa_pair_id: _Optional[str] = ..., qa_pair: _Optional[_Union[_qa_pair_pb2.QaPair, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateQaPairResponse(_message.Message):
    __slots__ = ("qa_pair",)
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    qa_pair: _qa_pair_pb2.QaPair
    def __init__(self, qa_pair: _Optional[_Union[_qa_pair_pb2.QaPair, _Mapping]] = ...) -> None: ...

class DeleteQaPairRequest(_message.Message):
    __slots__ = ("qa_pair_id",)
    QA_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    qa_pair_id: str
    def __init__(self, qa_pair_id: _Optional[str] = ...) -> None: ...

class DeleteQaPairResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "knowledge_base_ids", "agent_id", "top_k", "mode", "min_score")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_BASE_IDS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    query: str
    knowledge_base_ids: _containers.RepeatedScalarFieldContainer[str]
    agent_id: str
    top_k: int
    mode: _search_pb2.SearchMode
    min_score: float
    def __init__(self, query: _Optional[str] = ..., knowledge_base_ids: _Optional[_Iterable[str]] = ..., agent_id: _Optional[str] = ..., top_k: _Optional[int] = ..., mode: _Optional[_Union[_search_pb2.SearchMode, str]] = ..., min_score: _Optional[float] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "effective_mode")
    HITS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_MODE_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[_search_pb2.SearchHit]
    effective_mode: _search_pb2.SearchMode
    def __init__(self, hits: _Optional[_Iterable[_Union[_search_pb2.SearchHit, _Mapping]]] = ..., effective_mode: _Optional[_Union[_search_pb2.SearchMode, str]] = ...) -> None: ...

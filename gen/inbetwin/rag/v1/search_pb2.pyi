from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_MODE_UNSPECIFIED: _ClassVar[SearchMode]
    SEARCH_MODE_HYBRID: _ClassVar[SearchMode]
    SEARCH_MODE_VECTOR: _ClassVar[SearchMode]
    SEARCH_MODE_FULL_TEXT: _ClassVar[SearchMode]
SEARCH_MODE_UNSPECIFIED: SearchMode
SEARCH_MODE_HYBRID: SearchMode
SEARCH_MODE_VECTOR: SearchMode
SEARCH_MODE_FULL_TEXT: SearchMode

class Citation(_message.Message):
    __slots__ = ("document_id", "file_name", "chunk_id", "chunk_index", "char_start", "char_end", "page_number", "heading")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    PAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    file_name: str
    chunk_id: str
    chunk_index: int
    char_start: int
    char_end: int
    page_number: int
    heading: str
    def __init__(self, document_id: _Optional[str] = ..., file_name: _Optional[str] = ..., chunk_id: _Optional[str] = ..., chunk_index: _Optional[int] = ..., char_start: _Optional[int] = ..., char_end: _Optional[int] = ..., page_number: _Optional[int] = ..., heading: _Optional[str] = ...) -> None: ...

class QaPairMatch(_message.Message):
    __slots__ = ("qa_pair_id", "question", "exact_match")
    QA_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    qa_pair_id: str
    question: str
    exact_match: bool
    def __init__(self, qa_pair_id: _Optional[str] = ..., question: _Optional[str] = ..., exact_match: _Optional[bool] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("score", "text", "knowledge_base_id", "citation", "qa_pair")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_BASE_ID_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    QA_PAIR_FIELD_NUMBER: _ClassVar[int]
    score: float
    text: str
    knowledge_base_id: str
    citation: Citation
    qa_pair: QaPairMatch
    def __init__(self, score: _Optional[float] = ..., text: _Optional[str] = ..., knowledge_base_id: _Optional[str] = ..., citation: _Optional[_Union[Citation, _Mapping]] = ..., qa_pair: _Optional[_Union[QaPairMatch, _Mapping]] = ...) -> None: ...

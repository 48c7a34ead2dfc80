import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from inbetwin.leads.v1 import lead_pb2 as _lead_pb2
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
    ERROR_REASON_LEAD_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_PAGE_TOKEN_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_RESYNC_REQUIRED: _ClassVar[ErrorReason]
    ERROR_REASON_WATCH_LIMIT_REACHED: _ClassVar[ErrorReason]

class LeadView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_VIEW_UNSPECIFIED: _ClassVar[LeadView]
    LEAD_VIEW_BASIC: _ClassVar[LeadView]
    LEAD_VIEW_FULL: _ClassVar[LeadView]

class StreamEndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_END_REASON_UNSPECIFIED: _ClassVar[StreamEndReason]
    STREAM_END_REASON_MAX_DURATION: _ClassVar[StreamEndReason]
    STREAM_END_REASON_SERVER_SHUTDOWN: _ClassVar[StreamEndReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_LEAD_NOT_FOUND: ErrorReason
ERROR_REASON_FIELD_NOT_UPDATABLE: ErrorReason
ERROR_REASON_PAGE_TOKEN_INVALID: ErrorReason
ERROR_REASON_RESYNC_REQUIRED: ErrorReason
ERROR_REASON_WATCH_LIMIT_REACHED: ErrorReason
LEAD_VIEW_UNSPECIFIED: LeadView
LEAD_VIEW_BASIC: LeadView
LEAD_VIEW_FULL: LeadView
STREAM_END_REASON_UNSPECIFIED: StreamEndReason
STREAM_END_REASON_MAX_DURATION: StreamEndReason
STREAM_END_REASON_SERVER_SHUTDOWN: StreamEndReason

class ListLeadsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "stages", "integration_id", "contact_id", "min_score", "query", "order_by", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    stages: _containers.RepeatedScalarFieldContainer[_lead_pb2.LeadStage]
    integration_id: str
    contact_id: str
    min_score: int
    query: str
    order_by: str
    view: LeadView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[_lead_pb2.LeadStage, str]]] = ..., integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., min_score: _Optional[int] = ..., query: _Optional[str] = ..., order_by: _Optional[str] = ..., view: _Optional[_Union[LeadView, str]] = ...) -> None: ...

class ListLeadsResponse(_message.Message):
    __slots__ = ("leads", "next_page_token", "total_size")
    LEADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    leads: _containers.RepeatedCompositeFieldContainer[_lead_pb2.Lead]
    next_page_token: str
    total_size: int
    def __init__(self, leads: _Optional[_Iterable[_Union[_lead_pb2.Lead, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetLeadRequest(_message.Message):
    __slots__ = ("lead_id", "score_history_limit")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_HISTORY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    score_history_limit: int
    def __init__(self, lead_id: _Optional[str] = ..., score_history_limit: _Optional[int] = ...) -> None: ...

class GetLeadResponse(_message.Message):
    __slots__ = ("lead", "score_history")
    LEAD_FIELD_NUMBER: _ClassVar[int]
    SCORE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    lead: _lead_pb2.Lead
    score_history: _containers.RepeatedCompositeFieldContainer[_lead_pb2.ScorePoint]
    def __init__(self, lead: _Optional[_Union[_lead_pb2.Lead, _Mapping]] = ..., score_history: _Optional[_Iterable[_Union[_lead_pb2.ScorePoint, _Mapping]]] = ...) -> None: ...

class UpdateLeadRequest(_message.Message):
    __slots__ = ("lead_id", "lead", "update_mask")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    lead: _lead_pb2.Lead
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, lead_id: _Optional[str] = ..., lead: _Optional[_Union[_lead_pb2.Lead, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateLeadResponse(_message.Message):
    __slots__ = ("lead",)
    LEAD_FIELD_NUMBER: _ClassVar[int]
    lead: _lead_pb2.Lead
    def __init__(self, lead: _Optional[_Union[_lead_pb2.Lead, _Mapping]] = ...) -> None: ...

class WatchLeadsRequest(_message.Message):
    __slots__ = ("stages", "min_score", "integration_id", "view", "since_time")
    STAGES_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedScalarFieldContainer[_lead_pb2.LeadStage]
    min_score: int
    integration_id: str
    view: LeadView
    since_time: _timestamp_pb2.Timestamp
    def __init__(self, stages: _Optional[_Iterable[_Union[_lead_pb2.LeadStage, str]]] = ..., min_score: _Optional[int] = ..., integration_id: _Optional[str] = ..., view: _Optional[_Union[LeadView, str]] = ..., since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchLeadsResponse(_message.Message):
    __slots__ = ("lead_updated", "heartbeat", "end", "error")
    LEAD_UPDATED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    lead_updated: LeadUpdated
    heartbeat: StreamHeartbeat
    end: StreamEnd
    error: StreamError
    def __init__(self, lead_updated: _Optional[_Union[LeadUpdated, _Mapping]] = ..., heartbeat: _Optional[_Union[StreamHeartbeat, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class LeadUpdated(_message.Message):
    __slots__ = ("lead", "previous_score", "previous_stage", "cause", "matches_filter")
    LEAD_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SCORE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STAGE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FILTER_FIELD_NUMBER: _ClassVar[int]
    lead: _lead_pb2.Lead
    previous_score: int
    previous_stage: _lead_pb2.LeadStage
    cause: _lead_pb2.LeadChangeCause
    matches_filter: bool
    def __init__(self, lead: _Optional[_Union[_lead_pb2.Lead, _Mapping]] = ..., previous_score: _Optional[int] = ..., previous_stage: _Optional[_Union[_lead_pb2.LeadStage, str]] = ..., cause: _Optional[_Union[_lead_pb2.LeadChangeCause, str]] = ..., matches_filter: _Optional[bool] = ...) -> None: ...

class StreamHeartbeat(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("reason", "resume_time")
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESUME_TIME_FIELD_NUMBER: _ClassVar[int]
    reason: StreamEndReason
    resume_time: _timestamp_pb2.Timestamp
    def __init__(self, reason: _Optional[_Union[StreamEndReason, str]] = ..., resume_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _status_pb2.Status
    def __init__(self, status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeadUpdated(_message.Message):
    __slots__ = ("event_id", "owner_id", "occur_time", "lead_id", "contact_id", "score", "stage", "previous_score", "previous_stage", "cause", "update_time", "integration_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SCORE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STAGE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    owner_id: str
    occur_time: _timestamp_pb2.Timestamp
    lead_id: str
    contact_id: str
    score: int
    stage: str
    previous_score: int
    previous_stage: str
    cause: str
    update_time: _timestamp_pb2.Timestamp
    integration_id: str
    def __init__(self, event_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lead_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., score: _Optional[int] = ..., stage: _Optional[str] = ..., previous_score: _Optional[int] = ..., previous_stage: _Optional[str] = ..., cause: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., integration_id: _Optional[str] = ...) -> None: ...

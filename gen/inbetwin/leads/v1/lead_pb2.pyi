import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeadStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_STAGE_UNSPECIFIED: _ClassVar[LeadStage]
    LEAD_STAGE_NEW: _ClassVar[LeadStage]
    LEAD_STAGE_ENGAGED: _ClassVar[LeadStage]
    LEAD_STAGE_QUALIFIED: _ClassVar[LeadStage]
    LEAD_STAGE_HOT: _ClassVar[LeadStage]
    LEAD_STAGE_WON: _ClassVar[LeadStage]
    LEAD_STAGE_LOST: _ClassVar[LeadStage]

class OwnerLabel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OWNER_LABEL_UNSPECIFIED: _ClassVar[OwnerLabel]
    OWNER_LABEL_GOOD_LEAD: _ClassVar[OwnerLabel]
    OWNER_LABEL_NOT_A_LEAD: _ClassVar[OwnerLabel]

class ScoreFactorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORE_FACTOR_KIND_UNSPECIFIED: _ClassVar[ScoreFactorKind]
    SCORE_FACTOR_KIND_ENGAGEMENT: _ClassVar[ScoreFactorKind]
    SCORE_FACTOR_KIND_INTENT: _ClassVar[ScoreFactorKind]
    SCORE_FACTOR_KIND_QUALIFICATION: _ClassVar[ScoreFactorKind]
    SCORE_FACTOR_KIND_SENTIMENT: _ClassVar[ScoreFactorKind]
    SCORE_FACTOR_KIND_HANDOFF: _ClassVar[ScoreFactorKind]

class EvidenceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVIDENCE_KIND_UNSPECIFIED: _ClassVar[EvidenceKind]
    EVIDENCE_KIND_MESSAGE: _ClassVar[EvidenceKind]
    EVIDENCE_KIND_FACT: _ClassVar[EvidenceKind]
    EVIDENCE_KIND_HANDOFF: _ClassVar[EvidenceKind]

class ScoringModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORING_MODEL_KIND_UNSPECIFIED: _ClassVar[ScoringModelKind]
    SCORING_MODEL_KIND_DEFAULT_WEIGHTS: _ClassVar[ScoringModelKind]
    SCORING_MODEL_KIND_OWNER_TUNED: _ClassVar[ScoringModelKind]

class LeadChangeCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_CHANGE_CAUSE_UNSPECIFIED: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_CONVERSATION: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_FACT_SAVED: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_HANDOFF: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_OWNER_UPDATE: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_MODEL_UPDATED: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_RECENCY: _ClassVar[LeadChangeCause]
    LEAD_CHANGE_CAUSE_CONTACT_UPDATED: _ClassVar[LeadChangeCause]
LEAD_STAGE_UNSPECIFIED: LeadStage
LEAD_STAGE_NEW: LeadStage
LEAD_STAGE_ENGAGED: LeadStage
LEAD_STAGE_QUALIFIED: LeadStage
LEAD_STAGE_HOT: LeadStage
LEAD_STAGE_WON: LeadStage
LEAD_STAGE_LOST: LeadStage
OWNER_LABEL_UNSPECIFIED: OwnerLabel
OWNER_LABEL_GOOD_LEAD: OwnerLabel
OWNER_LABEL_NOT_A_LEAD: OwnerLabel
SCORE_FACTOR_KIND_UNSPECIFIED: ScoreFactorKind
SCORE_FACTOR_KIND_ENGAGEMENT: ScoreFactorKind
SCORE_FACTOR_KIND_INTENT: ScoreFactorKind
SCORE_FACTOR_KIND_QUALIFICATION: ScoreFactorKind
SCORE_FACTOR_KIND_SENTIMENT: ScoreFactorKind
SCORE_FACTOR_KIND_HANDOFF: ScoreFactorKind
EVIDENCE_KIND_UNSPECIFIED: EvidenceKind
EVIDENCE_KIND_MESSAGE: EvidenceKind
EVIDENCE_KIND_FACT: EvidenceKind
EVIDENCE_KIND_HANDOFF: EvidenceKind
SCORING_MODEL_KIND_UNSPECIFIED: ScoringModelKind
SCORING_MODEL_KIND_DEFAULT_WEIGHTS: ScoringModelKind
SCORING_MODEL_KIND_OWNER_TUNED: ScoringModelKind
LEAD_CHANGE_CAUSE_UNSPECIFIED: LeadChangeCause
LEAD_CHANGE_CAUSE_CONVERSATION: LeadChangeCause
LEAD_CHANGE_CAUSE_FACT_SAVED: LeadChangeCause
LEAD_CHANGE_CAUSE_HANDOFF: LeadChangeCause
LEAD_CHANGE_CAUSE_OWNER_UPDATE: LeadChangeCause
LEAD_CHANGE_CAUSE_MODEL_UPDATED: LeadChangeCause
LEAD_CHANGE_CAUSE_RECENCY: LeadChangeCause
LEAD_CHANGE_CAUSE_CONTACT_UPDATED: LeadChangeCause

class Evidence(_message.Message):
    __slots__ = ("kind", "message_id", "fact_key", "signal", "excerpt", "occur_time", "handoff_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    FACT_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EXCERPT_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    kind: EvidenceKind
    message_id: str
    fact_key: str
    signal: str
    excerpt: str
    occur_time: _timestamp_pb2.Timestamp
    handoff_id: str
    def __init__(self, kind: _Optional[_Union[EvidenceKind, str]] = ..., message_id: _Optional[str] = ..., fact_key: _Optional[str] = ..., signal: _Optional[str] = ..., excerpt: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., handoff_id: _Optional[str] = ...) -> None: ...

class ScoreFactor(_message.Message):
    __slots__ = ("kind", "value", "weight", "contribution", "summary", "evidence")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    kind: ScoreFactorKind
    value: float
    weight: float
    contribution: float
    summary: str
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, kind: _Optional[_Union[ScoreFactorKind, str]] = ..., value: _Optional[float] = ..., weight: _Optional[float] = ..., contribution: _Optional[float] = ..., summary: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class ScoringModel(_message.Message):
    __slots__ = ("kind", "version", "trained_on_labels", "train_time", "baseline")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINED_ON_LABELS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_TIME_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    kind: ScoringModelKind
    version: str
    trained_on_labels: int
    train_time: _timestamp_pb2.Timestamp
    baseline: float
    def __init__(self, kind: _Optional[_Union[ScoringModelKind, str]] = ..., version: _Optional[str] = ..., trained_on_labels: _Optional[int] = ..., train_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., baseline: _Optional[float] = ...) -> None: ...

class Lead(_message.Message):
    __slots__ = ("id", "contact_id", "integration_id", "platform", "display_name", "score", "stage", "stage_overridden", "owner_label", "notes", "factors", "model", "last_activity_time", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_LABEL_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    contact_id: str
    integration_id: str
    platform: str
    display_name: str
    score: int
    stage: LeadStage
    stage_overridden: bool
    owner_label: OwnerLabel
    notes: str
    factors: _containers.RepeatedCompositeFieldContainer[ScoreFactor]
    model: ScoringModel
    last_activity_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., contact_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., platform: _Optional[str] = ..., display_name: _Optional[str] = ..., score: _Optional[int] = ..., stage: _Optional[_Union[LeadStage, str]] = ..., stage_overridden: _Optional[bool] = ..., owner_label: _Optional[_Union[OwnerLabel, str]] = ..., notes: _Optional[str] = ..., factors: _Optional[_Iterable[_Union[ScoreFactor, _Mapping]]] = ..., model: _Optional[_Union[ScoringModel, _Mapping]] = ..., last_activity_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScorePoint(_message.Message):
    __slots__ = ("score", "stage", "time", "cause")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    score: int
    stage: LeadStage
    time: _timestamp_pb2.Timestamp
    cause: LeadChangeCause
    def __init__(self, score: _Optional[int] = ..., stage: _Optional[_Union[LeadStage, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[_Union[LeadChangeCause, str]] = ...) -> None: ...

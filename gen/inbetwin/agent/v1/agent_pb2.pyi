import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.agent.v1 import tool_pb2 as _tool_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tone(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TONE_UNSPECIFIED: _ClassVar[Tone]
    TONE_NEUTRAL: _ClassVar[Tone]
    TONE_FRIENDLY: _ClassVar[Tone]
    TONE_FORMAL: _ClassVar[Tone]
    TONE_CASUAL: _ClassVar[Tone]

class DayOfWeek(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DAY_OF_WEEK_UNSPECIFIED: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_MONDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_TUESDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_WEDNESDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_THURSDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_FRIDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_SATURDAY: _ClassVar[DayOfWeek]
    DAY_OF_WEEK_SUNDAY: _ClassVar[DayOfWeek]
TONE_UNSPECIFIED: Tone
TONE_NEUTRAL: Tone
TONE_FRIENDLY: Tone
TONE_FORMAL: Tone
TONE_CASUAL: Tone
DAY_OF_WEEK_UNSPECIFIED: DayOfWeek
DAY_OF_WEEK_MONDAY: DayOfWeek
DAY_OF_WEEK_TUESDAY: DayOfWeek
DAY_OF_WEEK_WEDNESDAY: DayOfWeek
DAY_OF_WEEK_THURSDAY: DayOfWeek
DAY_OF_WEEK_FRIDAY: DayOfWeek
DAY_OF_WEEK_SATURDAY: DayOfWeek
DAY_OF_WEEK_SUNDAY: DayOfWeek

class Agent(_message.Message):
    __slots__ = ("id", "display_name", "description", "enabled", "system_prompt", "model", "generation", "tone", "language", "integration_ids", "reply_delay_seconds", "working_hours", "builtin_tools", "builtin_settings", "tool_ids", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    TONE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_IDS_FIELD_NUMBER: _ClassVar[int]
    REPLY_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORKING_HOURS_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_TOOLS_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    TOOL_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    description: str
    enabled: bool
    system_prompt: str
    model: str
    generation: GenerationSettings
    tone: Tone
    language: str
    integration_ids: _containers.RepeatedScalarFieldContainer[str]
    reply_delay_seconds: int
    working_hours: WorkingHours
    builtin_tools: _containers.RepeatedScalarFieldContainer[_tool_pb2.BuiltinTool]
    builtin_settings: BuiltinToolSettings
    tool_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., system_prompt: _Optional[str] = ..., model: _Optional[str] = ..., generation: _Optional[_Union[GenerationSettings, _Mapping]] = ..., tone: _Optional[_Union[Tone, str]] = ..., language: _Optional[str] = ..., integration_ids: _Optional[_Iterable[str]] = ..., reply_delay_seconds: _Optional[int] = ..., working_hours: _Optional[_Union[WorkingHours, _Mapping]] = ..., builtin_tools: _Optional[_Iterable[_Union[_tool_pb2.BuiltinTool, str]]] = ..., builtin_settings: _Optional[_Union[BuiltinToolSettings, _Mapping]] = ..., tool_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GenerationSettings(_message.Message):
    __slots__ = ("temperature", "max_output_tokens", "top_p")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    max_output_tokens: int
    top_p: float
    def __init__(self, temperature: _Optional[float] = ..., max_output_tokens: _Optional[int] = ..., top_p: _Optional[float] = ...) -> None: ...

class WorkingHours(_message.Message):
    __slots__ = ("time_zone", "windows")
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    time_zone: str
    windows: _containers.RepeatedCompositeFieldContainer[WorkingWindow]
    def __init__(self, time_zone: _Optional[str] = ..., windows: _Optional[_Iterable[_Union[WorkingWindow, _Mapping]]] = ...) -> None: ...

class WorkingWindow(_message.Message):
    __slots__ = ("day", "start_time", "end_time")
    DAY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    day: DayOfWeek
    start_time: str
    end_time: str
    def __init__(self, day: _Optional[_Union[DayOfWeek, str]] = ..., start_time: _Optional[str] = ..., end_time: _Optional[str] = ...) -> None: ...

class BuiltinToolSettings(_message.Message):
    __slots__ = ("task_connection_id", "calendar_connection_id", "default_meeting_minutes")
    TASK_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MEETING_MINUTES_FIELD_NUMBER: _ClassVar[int]
    task_connection_id: str
    calendar_connection_id: str
    default_meeting_minutes: int
    def __init__(self, task_connection_id: _Optional[str] = ..., calendar_connection_id: _Optional[str] = ..., default_meeting_minutes: _Optional[int] = ...) -> None: ...

import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_DIRECTION_UNSPECIFIED: _ClassVar[MessageDirection]
    MESSAGE_DIRECTION_INBOUND: _ClassVar[MessageDirection]
    MESSAGE_DIRECTION_OUTBOUND: _ClassVar[MessageDirection]

class AuthorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTHOR_KIND_UNSPECIFIED: _ClassVar[AuthorKind]
    AUTHOR_KIND_CONTACT: _ClassVar[AuthorKind]
    AUTHOR_KIND_AGENT: _ClassVar[AuthorKind]
    AUTHOR_KIND_OWNER: _ClassVar[AuthorKind]

class MessageStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATUS_UNSPECIFIED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_RECEIVED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_PENDING: _ClassVar[MessageStatus]
    MESSAGE_STATUS_SENT: _ClassVar[MessageStatus]
    MESSAGE_STATUS_FAILED: _ClassVar[MessageStatus]

class AttachmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTACHMENT_KIND_UNSPECIFIED: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_PHOTO: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_VIDEO: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_AUDIO: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_VOICE: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_DOCUMENT: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_STICKER: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_LOCATION: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_CONTACT: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_OTHER: _ClassVar[AttachmentKind]
MESSAGE_DIRECTION_UNSPECIFIED: MessageDirection
MESSAGE_DIRECTION_INBOUND: MessageDirection
MESSAGE_DIRECTION_OUTBOUND: MessageDirection
AUTHOR_KIND_UNSPECIFIED: AuthorKind
AUTHOR_KIND_CONTACT: AuthorKind
AUTHOR_KIND_AGENT: AuthorKind
AUTHOR_KIND_OWNER: AuthorKind
MESSAGE_STATUS_UNSPECIFIED: MessageStatus
MESSAGE_STATUS_RECEIVED: MessageStatus
MESSAGE_STATUS_PENDING: MessageStatus
MESSAGE_STATUS_SENT: MessageStatus
MESSAGE_STATUS_FAILED: MessageStatus
ATTACHMENT_KIND_UNSPECIFIED: AttachmentKind
ATTACHMENT_KIND_PHOTO: AttachmentKind
ATTACHMENT_KIND_VIDEO: AttachmentKind
ATTACHMENT_KIND_AUDIO: AttachmentKind
ATTACHMENT_KIND_VOICE: AttachmentKind
ATTACHMENT_KIND_DOCUMENT: AttachmentKind
ATTACHMENT_KIND_STICKER: AttachmentKind
ATTACHMENT_KIND_LOCATION: AttachmentKind
ATTACHMENT_KIND_CONTACT: AttachmentKind
ATTACHMENT_KIND_OTHER: AttachmentKind

class Attachment(_message.Message):
    __slots__ = ("kind", "platform_type", "url", "mime_type", "file_name", "size_bytes", "platform_file_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_TYPE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    kind: AttachmentKind
    platform_type: str
    url: str
    mime_type: str
    file_name: str
    size_bytes: int
    platform_file_id: str
    def __init__(self, kind: _Optional[_Union[AttachmentKind, str]] = ..., platform_type: _Optional[str] = ..., url: _Optional[str] = ..., mime_type: _Optional[str] = ..., file_name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., platform_file_id: _Optional[str] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("id", "integration_id", "contact_id", "direction", "author_kind", "agent_id", "text", "attachments", "platform_message_id", "edited", "edit_time", "deleted", "reply_to_message_id", "status", "error_message", "create_time", "platform_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_KIND_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EDITED_FIELD_NUMBER: _ClassVar[int]
    EDIT_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    contact_id: str
    direction: MessageDirection
    author_kind: AuthorKind
    agent_id: str
    text: str
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    platform_message_id: str
    edited: bool
    edit_time: _timestamp_pb2.Timestamp
    deleted: bool
    reply_to_message_id: str
    status: MessageStatus
    error_message: str
    create_time: _timestamp_pb2.Timestamp
    platform_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., direction: _Optional[_Union[MessageDirection, str]] = ..., author_kind: _Optional[_Union[AuthorKind, str]] = ..., agent_id: _Optional[str] = ..., text: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., platform_message_id: _Optional[str] = ..., edited: _Optional[bool] = ..., edit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted: _Optional[bool] = ..., reply_to_message_id: _Optional[str] = ..., status: _Optional[_Union[MessageStatus, str]] = ..., error_message: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., platform_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

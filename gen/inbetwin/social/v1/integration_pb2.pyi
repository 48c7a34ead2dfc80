import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Platform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLATFORM_UNSPECIFIED: _ClassVar[Platform]
    PLATFORM_TELEGRAM: _ClassVar[Platform]
    PLATFORM_VK: _ClassVar[Platform]
    PLATFORM_X: _ClassVar[Platform]
    PLATFORM_MAX: _ClassVar[Platform]

class IntegrationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTEGRATION_STATUS_UNSPECIFIED: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_CONNECTING: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_ACTIVE: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_ERROR: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_DISCONNECTED: _ClassVar[IntegrationStatus]

class DeliveryMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_MODE_UNSPECIFIED: _ClassVar[DeliveryMode]
    DELIVERY_MODE_WEBHOOK: _ClassVar[DeliveryMode]
    DELIVERY_MODE_POLLING: _ClassVar[DeliveryMode]

class ContactPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_POLICY_UNSPECIFIED: _ClassVar[ContactPolicy]
    CONTACT_POLICY_ALLOW_ALL: _ClassVar[ContactPolicy]
    CONTACT_POLICY_DENY_ALL: _ClassVar[ContactPolicy]

class ContactSyncState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_SYNC_STATE_UNSPECIFIED: _ClassVar[ContactSyncState]
    CONTACT_SYNC_STATE_RUNNING: _ClassVar[ContactSyncState]
    CONTACT_SYNC_STATE_SUCCEEDED: _ClassVar[ContactSyncState]
    CONTACT_SYNC_STATE_FAILED: _ClassVar[ContactSyncState]
PLATFORM_UNSPECIFIED: Platform
PLATFORM_TELEGRAM: Platform
PLATFORM_VK: Platform
PLATFORM_X: Platform
PLATFORM_MAX: Platform
INTEGRATION_STATUS_UNSPECIFIED: IntegrationStatus
INTEGRATION_STATUS_CONNECTING: IntegrationStatus
INTEGRATION_STATUS_ACTIVE: IntegrationStatus
INTEGRATION_STATUS_ERROR: IntegrationStatus
INTEGRATION_STATUS_DISCONNECTED: IntegrationStatus
DELIVERY_MODE_UNSPECIFIED: DeliveryMode
DELIVERY_MODE_WEBHOOK: DeliveryMode
DELIVERY_MODE_POLLING: DeliveryMode
CONTACT_POLICY_UNSPECIFIED: ContactPolicy
CONTACT_POLICY_ALLOW_ALL: ContactPolicy
CONTACT_POLICY_DENY_ALL: ContactPolicy
CONTACT_SYNC_STATE_UNSPECIFIED: ContactSyncState
CONTACT_SYNC_STATE_RUNNING: ContactSyncState
CONTACT_SYNC_STATE_SUCCEEDED: ContactSyncState
CONTACT_SYNC_STATE_FAILED: ContactSyncState

class ContactSync(_message.Message):
    __slots__ = ("state", "start_time", "end_time", "contacts_seen", "contacts_created", "contacts_updated", "error_message")
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_SEEN_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    state: ContactSyncState
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    contacts_seen: int
    contacts_created: int
    contacts_updated: int
    error_message: str
    def __init__(self, state: _Optional[_Union[ContactSyncState, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contacts_seen: _Optional[int] = ..., contacts_created: _Optional[int] = ..., contacts_updated: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class Integration(_message.Message):
    __slots__ = ("id", "platform", "display_name", "status", "platform_account_id", "platform_username", "delivery_mode", "default_contact_policy", "webhook_url", "last_error", "last_error_time", "last_update_time", "last_contact_sync", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_USERNAME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CONTACT_POLICY_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_SYNC_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    platform: Platform
    display_name: str
    status: IntegrationStatus
    platform_account_id: str
    platform_username: str
    delivery_mode: DeliveryMode
    default_contact_policy: ContactPolicy
    webhook_url: str
    last_error: str
    last_error_time: _timestamp_pb2.Timestamp
    last_update_time: _timestamp_pb2.Timestamp
    last_contact_sync: ContactSync
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., platform: _Optional[_Union[Platform, str]] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[IntegrationStatus, str]] = ..., platform_account_id: _Optional[str] = ..., platform_username: _Optional[str] = ..., delivery_mode: _Optional[_Union[DeliveryMode, str]] = ..., default_contact_policy: _Optional[_Union[ContactPolicy, str]] = ..., webhook_url: _Optional[str] = ..., last_error: _Optional[str] = ..., last_error_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_contact_sync: _Optional[_Union[ContactSync, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

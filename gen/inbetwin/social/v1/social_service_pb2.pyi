import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
from inbetwin.social.v1 import contact_pb2 as _contact_pb2
from inbetwin.social.v1 import integration_pb2 as _integration_pb2
from inbetwin.social.v1 import message_pb2 as _message_pb2
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
    ERROR_REASON_INTEGRATION_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_CONTACT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_MESSAGE_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_PLATFORM_REJECTED_CREDENTIALS: _ClassVar[ErrorReason]
    ERROR_REASON_PLATFORM_PERMISSION_MISSING: _ClassVar[ErrorReason]
    ERROR_REASON_INTEGRATION_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_INTEGRATION_ALREADY_CONNECTED: _ClassVar[ErrorReason]
    ERROR_REASON_INTEGRATION_NOT_ACTIVE: _ClassVar[ErrorReason]
    ERROR_REASON_WEBHOOK_SIGNATURE_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_WEBHOOK_PAYLOAD_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_WEBHOOK_SETUP_FAILED: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_PLATFORM: _ClassVar[ErrorReason]
    ERROR_REASON_DELIVERY_MODE_UNSUPPORTED: _ClassVar[ErrorReason]
    ERROR_REASON_PLATFORM_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_PLATFORM_RATE_LIMITED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_STATE_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_CODE_REJECTED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_DENIED: _ClassVar[ErrorReason]
    ERROR_REASON_CONTACT_UNREACHABLE: _ClassVar[ErrorReason]
    ERROR_REASON_MESSAGE_TOO_LONG: _ClassVar[ErrorReason]
    ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_REQUEST_ID_REUSED: _ClassVar[ErrorReason]
    ERROR_REASON_PAGE_TOKEN_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_REDIRECT_URI_NOT_ALLOWED: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INTEGRATION_NOT_FOUND: ErrorReason
ERROR_REASON_CONTACT_NOT_FOUND: ErrorReason
ERROR_REASON_MESSAGE_NOT_FOUND: ErrorReason
ERROR_REASON_PLATFORM_REJECTED_CREDENTIALS: ErrorReason
ERROR_REASON_PLATFORM_PERMISSION_MISSING: ErrorReason
ERROR_REASON_INTEGRATION_LIMIT_REACHED: ErrorReason
ERROR_REASON_INTEGRATION_ALREADY_CONNECTED: ErrorReason
ERROR_REASON_INTEGRATION_NOT_ACTIVE: ErrorReason
ERROR_REASON_WEBHOOK_SIGNATURE_INVALID: ErrorReason
ERROR_REASON_WEBHOOK_PAYLOAD_INVALID: ErrorReason
ERROR_REASON_WEBHOOK_SETUP_FAILED: ErrorReason
ERROR_REASON_UNSUPPORTED_PLATFORM: ErrorReason
ERROR_REASON_DELIVERY_MODE_UNSUPPORTED: ErrorReason
ERROR_REASON_PLATFORM_UNAVAILABLE: ErrorReason
ERROR_REASON_PLATFORM_RATE_LIMITED: ErrorReason
ERROR_REASON_OAUTH_STATE_INVALID: ErrorReason
ERROR_REASON_OAUTH_CODE_REJECTED: ErrorReason
ERROR_REASON_OAUTH_DENIED: ErrorReason
ERROR_REASON_CONTACT_UNREACHABLE: ErrorReason
ERROR_REASON_MESSAGE_TOO_LONG: ErrorReason
ERROR_REASON_FIELD_NOT_UPDATABLE: ErrorReason
ERROR_REASON_REQUEST_ID_REUSED: ErrorReason
ERROR_REASON_PAGE_TOKEN_INVALID: ErrorReason
ERROR_REASON_REDIRECT_URI_NOT_ALLOWED: ErrorReason

class TelegramCredentials(_message.Message):
    __slots__ = ("bot_token",)
    BOT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bot_token: str
    def __init__(self, bot_token: _Optional[str] = ...) -> None: ...

class VkCredentials(_message.Message):
    __slots__ = ("community_token", "group_id", "confirmation_code", "callback_secret")
    COMMUNITY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_CODE_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_SECRET_FIELD_NUMBER: _ClassVar[int]
    community_token: str
    group_id: int
    confirmation_code: str
    callback_secret: str
    def __init__(self, community_token: _Optional[str] = ..., group_id: _Optional[int] = ..., confirmation_code: _Optional[str] = ..., callback_secret: _Optional[str] = ...) -> None: ...

class MaxCredentials(_message.Message):
    __slots__ = ("bot_token",)
    BOT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bot_token: str
    def __init__(self, bot_token: _Optional[str] = ...) -> None: ...

class ConnectIntegrationRequest(_message.Message):
    __slots__ = ("request_id", "telegram", "vk", "max", "display_name", "delivery_mode", "default_contact_policy")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_FIELD_NUMBER: _ClassVar[int]
    VK_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CONTACT_POLICY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    telegram: TelegramCredentials
    vk: VkCredentials
    max: MaxCredentials
    display_name: str
    delivery_mode: _integration_pb2.DeliveryMode
    default_contact_policy: _integration_pb2.ContactPolicy
    def __init__(self, request_id: _Optional[str] = ..., telegram: _Optional[_Union[TelegramCredentials, _Mapping]] = ..., vk: _Optional[_Union[VkCredentials, _Mapping]] = ..., max: _Optional[_Union[MaxCredentials, _Mapping]] = ..., display_name: _Optional[str] = ..., delivery_mode: _Optional[_Union[_integration_pb2.DeliveryMode, str]] = ..., default_contact_policy: _Optional[_Union[_integration_pb2.ContactPolicy, str]] = ...) -> None: ...

class ConnectIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: _integration_pb2.Integration
    def __init__(self, integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ...) -> None: ...

class StartIntegrationOAuthRequest(_message.Message):
    __slots__ = ("platform", "redirect_uri", "display_name", "default_contact_policy", "integration_id", "vk_group_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CONTACT_POLICY_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    VK_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    redirect_uri: str
    display_name: str
    default_contact_policy: _integration_pb2.ContactPolicy
    integration_id: str
    vk_group_id: int
    def __init__(self, platform: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., display_name: _Optional[str] = ..., default_contact_policy: _Optional[_Union[_integration_pb2.ContactPolicy, str]] = ..., integration_id: _Optional[str] = ..., vk_group_id: _Optional[int] = ...) -> None: ...

class StartIntegrationOAuthResponse(_message.Message):
    __slots__ = ("authorization_url", "state", "expire_time")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    state: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, authorization_url: _Optional[str] = ..., state: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CompleteIntegrationOAuthRequest(_message.Message):
    __slots__ = ("platform", "code", "state", "device_id", "error", "error_description")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    platform: str
    code: str
    state: str
    device_id: str
    error: str
    error_description: str
    def __init__(self, platform: _Optional[str] = ..., code: _Optional[str] = ..., state: _Optional[str] = ..., device_id: _Optional[str] = ..., error: _Optional[str] = ..., error_description: _Optional[str] = ...) -> None: ...

class CompleteIntegrationOAuthResponse(_message.Message):
    __slots__ = ("integration", "created")
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    integration: _integration_pb2.Integration
    created: bool
    def __init__(self, integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListIntegrationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "platform", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    platform: _integration_pb2.Platform
    status: _integration_pb2.IntegrationStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., platform: _Optional[_Union[_integration_pb2.Platform, str]] = ..., status: _Optional[_Union[_integration_pb2.IntegrationStatus, str]] = ...) -> None: ...

class ListIntegrationsResponse(_message.Message):
    __slots__ = ("integrations", "next_page_token")
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    integrations: _containers.RepeatedCompositeFieldContainer[_integration_pb2.Integration]
    next_page_token: str
    def __init__(self, integrations: _Optional[_Iterable[_Union[_integration_pb2.Integration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetIntegrationRequest(_message.Message):
    __slots__ = ("integration_id",)
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    def __init__(self, integration_id: _Optional[str] = ...) -> None: ...

class GetIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: _integration_pb2.Integration
    def __init__(self, integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ...) -> None: ...

class UpdateIntegrationRequest(_message.Message):
    __slots__ = ("integration_id", "integration", "update_mask")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    integration: _integration_pb2.Integration
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, integration_id: _Optional[str] = ..., integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: _integration_pb2.Integration
    def __init__(self, integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ...) -> None: ...

class ReconnectIntegrationRequest(_message.Message):
    __slots__ = ("integration_id", "telegram", "vk", "max")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_FIELD_NUMBER: _ClassVar[int]
    VK_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    telegram: TelegramCredentials
    vk: VkCredentials
    max: MaxCredentials
    def __init__(self, integration_id: _Optional[str] = ..., telegram: _Optional[_Union[TelegramCredentials, _Mapping]] = ..., vk: _Optional[_Union[VkCredentials, _Mapping]] = ..., max: _Optional[_Union[MaxCredentials, _Mapping]] = ...) -> None: ...

class ReconnectIntegrationResponse(_message.Message):
    __slots__ = ("integration",)
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    integration: _integration_pb2.Integration
    def __init__(self, integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ...) -> None: ...

class DeleteIntegrationRequest(_message.Message):
    __slots__ = ("integration_id",)
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    def __init__(self, integration_id: _Optional[str] = ...) -> None: ...

class DeleteIntegrationResponse(_message.Message):
    __slots__ = ("webhook_removed",)
    WEBHOOK_REMOVED_FIELD_NUMBER: _ClassVar[int]
    webhook_removed: bool
    def __init__(self, webhook_removed: _Optional[bool] = ...) -> None: ...

class HandleWebhookRequest(_message.Message):
    __slots__ = ("platform", "integration_id", "body")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    platform: str
    integration_id: str
    body: _httpbody_pb2.HttpBody
    def __init__(self, platform: _Optional[str] = ..., integration_id: _Optional[str] = ..., body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class HandleWebhookResponse(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class HandleWebhookChallengeRequest(_message.Message):
    __slots__ = ("platform", "integration_id", "crc_token", "nonce")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CRC_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    platform: str
    integration_id: str
    crc_token: str
    nonce: str
    def __init__(self, platform: _Optional[str] = ..., integration_id: _Optional[str] = ..., crc_token: _Optional[str] = ..., nonce: _Optional[str] = ...) -> None: ...

class HandleWebhookChallengeResponse(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class ListContactsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "integration_id", "query", "agent_access", "agent_allowed", "agent_paused", "reachable", "order_by")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    AGENT_ACCESS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    AGENT_PAUSED_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    integration_id: str
    query: str
    agent_access: _contact_pb2.AgentAccess
    agent_allowed: bool
    agent_paused: bool
    reachable: bool
    order_by: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., integration_id: _Optional[str] = ..., query: _Optional[str] = ..., agent_access: _Optional[_Union[_contact_pb2.AgentAccess, str]] = ..., agent_allowed: _Optional[bool] = ..., agent_paused: _Optional[bool] = ..., reachable: _Optional[bool] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListContactsResponse(_message.Message):
    __slots__ = ("contacts", "next_page_token")
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[_contact_pb2.Contact]
    next_page_token: str
    def __init__(self, contacts: _Optional[_Iterable[_Union[_contact_pb2.Contact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetContactRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class GetContactResponse(_message.Message):
    __slots__ = ("contact",)
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    contact: _contact_pb2.Contact
    def __init__(self, contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ...) -> None: ...

class UpdateContactRequest(_message.Message):
    __slots__ = ("contact_id", "contact", "update_mask")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    contact: _contact_pb2.Contact
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, contact_id: _Optional[str] = ..., contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateContactResponse(_message.Message):
    __slots__ = ("contact",)
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    contact: _contact_pb2.Contact
    def __init__(self, contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ...) -> None: ...

class SyncContactsRequest(_message.Message):
    __slots__ = ("integration_id",)
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    def __init__(self, integration_id: _Optional[str] = ...) -> None: ...

class SyncContactsResponse(_message.Message):
    __slots__ = ("sync",)
    SYNC_FIELD_NUMBER: _ClassVar[int]
    sync: _integration_pb2.ContactSync
    def __init__(self, sync: _Optional[_Union[_integration_pb2.ContactSync, _Mapping]] = ...) -> None: ...

class ResumeAgentRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class ResumeAgentResponse(_message.Message):
    __slots__ = ("contact",)
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    contact: _contact_pb2.Contact
    def __init__(self, contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ("contact_id", "page_size", "page_token", "order_by")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    page_size: int
    page_token: str
    order_by: str
    def __init__(self, contact_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_message_pb2.Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[_message_pb2.Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _message_pb2.Message
    def __init__(self, message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("contact_id", "request_id", "text", "reply_to_message_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    request_id: str
    text: str
    reply_to_message_id: str
    def __init__(self, contact_id: _Optional[str] = ..., request_id: _Optional[str] = ..., text: _Optional[str] = ..., reply_to_message_id: _Optional[str] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _message_pb2.Message
    def __init__(self, message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ...) -> None: ...

class GetConversationContextRequest(_message.Message):
    __slots__ = ("contact_id", "max_messages", "until_message_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    max_messages: int
    until_message_id: str
    def __init__(self, contact_id: _Optional[str] = ..., max_messages: _Optional[int] = ..., until_message_id: _Optional[str] = ...) -> None: ...

class GetConversationContextResponse(_message.Message):
    __slots__ = ("contact", "integration", "messages")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    contact: _contact_pb2.Contact
    integration: _integration_pb2.Integration
    messages: _containers.RepeatedCompositeFieldContainer[_message_pb2.Message]
    def __init__(self, contact: _Optional[_Union[_contact_pb2.Contact, _Mapping]] = ..., integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[_message_pb2.Message, _Mapping]]] = ...) -> None: ...

class BatchGetContactsRequest(_message.Message):
    __slots__ = ("contact_ids",)
    CONTACT_IDS_FIELD_NUMBER: _ClassVar[int]
    contact_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, contact_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetContactsResponse(_message.Message):
    __slots__ = ("contacts",)
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[_contact_pb2.Contact]
    def __init__(self, contacts: _Optional[_Iterable[_Union[_contact_pb2.Contact, _Mapping]]] = ...) -> None: ...

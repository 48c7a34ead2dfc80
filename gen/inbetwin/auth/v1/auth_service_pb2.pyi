import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from inbetwin.common.v1 import options_pb2 as _options_pb2
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
    ERROR_REASON_EMAIL_TAKEN: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_CREDENTIALS: _ClassVar[ErrorReason]
    ERROR_REASON_TOO_MANY_ATTEMPTS: _ClassVar[ErrorReason]
    ERROR_REASON_REFRESH_TOKEN_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_REFRESH_TOKEN_REUSED: _ClassVar[ErrorReason]
    ERROR_REASON_REFRESH_TOKEN_EXPIRED: _ClassVar[ErrorReason]
    ERROR_REASON_USER_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_PROVIDER_NOT_CONFIGURED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_STATE_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_CODE_REJECTED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_EMAIL_UNVERIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_RESET_TOKEN_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_PLAN_UNCHANGED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_PROVIDER_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_REDIRECT_URI_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_OAUTH_ACCESS_DENIED: _ClassVar[ErrorReason]

class PlanTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_TIER_UNSPECIFIED: _ClassVar[PlanTier]
    PLAN_TIER_FREE: _ClassVar[PlanTier]
    PLAN_TIER_PRO: _ClassVar[PlanTier]
    PLAN_TIER_BUSINESS: _ClassVar[PlanTier]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_EMAIL_TAKEN: ErrorReason
ERROR_REASON_INVALID_CREDENTIALS: ErrorReason
ERROR_REASON_TOO_MANY_ATTEMPTS: ErrorReason
ERROR_REASON_REFRESH_TOKEN_INVALID: ErrorReason
ERROR_REASON_REFRESH_TOKEN_REUSED: ErrorReason
ERROR_REASON_REFRESH_TOKEN_EXPIRED: ErrorReason
ERROR_REASON_USER_NOT_FOUND: ErrorReason
ERROR_REASON_FIELD_NOT_UPDATABLE: ErrorReason
ERROR_REASON_PROVIDER_NOT_CONFIGURED: ErrorReason
ERROR_REASON_OAUTH_STATE_INVALID: ErrorReason
ERROR_REASON_OAUTH_CODE_REJECTED: ErrorReason
ERROR_REASON_OAUTH_EMAIL_UNVERIFIED: ErrorReason
ERROR_REASON_RESET_TOKEN_INVALID: ErrorReason
ERROR_REASON_PLAN_UNCHANGED: ErrorReason
ERROR_REASON_OAUTH_PROVIDER_UNAVAILABLE: ErrorReason
ERROR_REASON_REDIRECT_URI_NOT_ALLOWED: ErrorReason
ERROR_REASON_OAUTH_ACCESS_DENIED: ErrorReason
PLAN_TIER_UNSPECIFIED: PlanTier
PLAN_TIER_FREE: PlanTier
PLAN_TIER_PRO: PlanTier
PLAN_TIER_BUSINESS: PlanTier

class User(_message.Message):
    __slots__ = ("id", "email", "email_verified", "display_name", "locale", "time_zone", "plan", "sign_in_methods", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    EMAIL_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SIGN_IN_METHODS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    email: str
    email_verified: bool
    display_name: str
    locale: str
    time_zone: str
    plan: PlanTier
    sign_in_methods: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., email: _Optional[str] = ..., email_verified: _Optional[bool] = ..., display_name: _Optional[str] = ..., locale: _Optional[str] = ..., time_zone: _Optional[str] = ..., plan: _Optional[_Union[PlanTier, str]] = ..., sign_in_methods: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenPair(_message.Message):
    __slots__ = ("access_token", "access_token_expire_time", "refresh_token", "refresh_token_expire_time", "token_type")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    access_token_expire_time: _timestamp_pb2.Timestamp
    refresh_token: str
    refresh_token_expire_time: _timestamp_pb2.Timestamp
    token_type: str
    def __init__(self, access_token: _Optional[str] = ..., access_token_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refresh_token: _Optional[str] = ..., refresh_token_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., token_type: _Optional[str] = ...) -> None: ...

class PlanLimits(_message.Message):
    __slots__ = ("max_agents", "max_integrations", "max_messages_per_month", "max_knowledge_base_bytes")
    MAX_AGENTS_FIELD_NUMBER: _ClassVar[int]
    MAX_INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    MAX_KNOWLEDGE_BASE_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_agents: int
    max_integrations: int
    max_messages_per_month: int
    max_knowledge_base_bytes: int
    def __init__(self, max_agents: _Optional[int] = ..., max_integrations: _Optional[int] = ..., max_messages_per_month: _Optional[int] = ..., max_knowledge_base_bytes: _Optional[int] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("tier", "display_name", "monthly_price_minor", "currency", "limits")
    TIER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    tier: PlanTier
    display_name: str
    monthly_price_minor: int
    currency: str
    limits: PlanLimits
    def __init__(self, tier: _Optional[_Union[PlanTier, str]] = ..., display_name: _Optional[str] = ..., monthly_price_minor: _Optional[int] = ..., currency: _Optional[str] = ..., limits: _Optional[_Union[PlanLimits, _Mapping]] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("plan", "start_time", "renew_time")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    RENEW_TIME_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    start_time: _timestamp_pb2.Timestamp
    renew_time: _timestamp_pb2.Timestamp
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., renew_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterRequest(_message.Message):
    __slots__ = ("email", "password", "display_name")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    display_name: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class RegisterResponse(_message.Message):
    __slots__ = ("user", "tokens")
    USER_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    user: User
    tokens: TokenPair
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., tokens: _Optional[_Union[TokenPair, _Mapping]] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("email", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("user", "tokens")
    USER_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    user: User
    tokens: TokenPair
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., tokens: _Optional[_Union[TokenPair, _Mapping]] = ...) -> None: ...

class RefreshTokenRequest(_message.Message):
    __slots__ = ("refresh_token",)
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    refresh_token: str
    def __init__(self, refresh_token: _Optional[str] = ...) -> None: ...

class RefreshTokenResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: TokenPair
    def __init__(self, tokens: _Optional[_Union[TokenPair, _Mapping]] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = ("refresh_token", "all_sessions")
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ALL_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    refresh_token: str
    all_sessions: bool
    def __init__(self, refresh_token: _Optional[str] = ..., all_sessions: _Optional[bool] = ...) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = ("revoked_sessions",)
    REVOKED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    revoked_sessions: int
    def __init__(self, revoked_sessions: _Optional[int] = ...) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class UpdateMeRequest(_message.Message):
    __slots__ = ("user", "update_mask")
    USER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    user: User
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateMeResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class StartOAuthRequest(_message.Message):
    __slots__ = ("provider", "redirect_uri")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    provider: str
    redirect_uri: str
    def __init__(self, provider: _Optional[str] = ..., redirect_uri: _Optional[str] = ...) -> None: ...

class StartOAuthResponse(_message.Message):
    __slots__ = ("authorization_url", "state")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    state: str
    def __init__(self, authorization_url: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class CompleteOAuthRequest(_message.Message):
    __slots__ = ("provider", "code", "state", "error", "error_description", "iss", "scope", "authuser", "prompt", "hd", "cid")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ISS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    AUTHUSER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    HD_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    code: str
    state: str
    error: str
    error_description: str
    iss: str
    scope: str
    authuser: str
    prompt: str
    hd: str
    cid: str
    def __init__(self, provider: _Optional[str] = ..., code: _Optional[str] = ..., state: _Optional[str] = ..., error: _Optional[str] = ..., error_description: _Optional[str] = ..., iss: _Optional[str] = ..., scope: _Optional[str] = ..., authuser: _Optional[str] = ..., prompt: _Optional[str] = ..., hd: _Optional[str] = ..., cid: _Optional[str] = ...) -> None: ...

class CompleteOAuthResponse(_message.Message):
    __slots__ = ("user", "tokens", "created")
    USER_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    user: User
    tokens: TokenPair
    created: bool
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., tokens: _Optional[_Union[TokenPair, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class RequestPasswordResetRequest(_message.Message):
    __slots__ = ("email",)
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    email: str
    def __init__(self, email: _Optional[str] = ...) -> None: ...

class RequestPasswordResetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResetPasswordRequest(_message.Message):
    __slots__ = ("token", "new_password")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    token: str
    new_password: str
    def __init__(self, token: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class ResetPasswordResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans", "next_page_token")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    next_page_token: str
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class ChangePlanRequest(_message.Message):
    __slots__ = ("tier",)
    TIER_FIELD_NUMBER: _ClassVar[int]
    tier: PlanTier
    def __init__(self, tier: _Optional[_Union[PlanTier, str]] = ...) -> None: ...

class ChangePlanResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class GetJwksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetJwksResponse(_message.Message):
    __slots__ = ("body",)
    BODY_FIELD_NUMBER: _ClassVar[int]
    body: _httpbody_pb2.HttpBody
    def __init__(self, body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class GetEntitlementsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetEntitlementsResponse(_message.Message):
    __slots__ = ("tier", "limits")
    TIER_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    tier: PlanTier
    limits: PlanLimits
    def __init__(self, tier: _Optional[_Union[PlanTier, str]] = ..., limits: _Optional[_Union[PlanLimits, _Mapping]] = ...) -> None: ...

class RotateSigningKeyRequest(_message.Message):
    __slots__ = ("activate_after_seconds",)
    ACTIVATE_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    activate_after_seconds: int
    def __init__(self, activate_after_seconds: _Optional[int] = ...) -> None: ...

class RotateSigningKeyResponse(_message.Message):
    __slots__ = ("key_id", "activate_time")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    activate_time: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., activate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

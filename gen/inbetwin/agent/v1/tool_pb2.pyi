import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from validate import validate_pb2 as _validate_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ToolKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOOL_KIND_UNSPECIFIED: _ClassVar[ToolKind]
    TOOL_KIND_BUILTIN: _ClassVar[ToolKind]
    TOOL_KIND_HTTP_WEBHOOK: _ClassVar[ToolKind]
    TOOL_KIND_MCP: _ClassVar[ToolKind]

class BuiltinTool(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUILTIN_TOOL_UNSPECIFIED: _ClassVar[BuiltinTool]
    BUILTIN_TOOL_SAVE_USER_INFO: _ClassVar[BuiltinTool]
    BUILTIN_TOOL_CREATE_TASK: _ClassVar[BuiltinTool]
    BUILTIN_TOOL_SCHEDULE_EVENT: _ClassVar[BuiltinTool]
    BUILTIN_TOOL_CALL_OPERATOR: _ClassVar[BuiltinTool]

class HttpMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HTTP_METHOD_UNSPECIFIED: _ClassVar[HttpMethod]
    HTTP_METHOD_GET: _ClassVar[HttpMethod]
    HTTP_METHOD_POST: _ClassVar[HttpMethod]
    HTTP_METHOD_PUT: _ClassVar[HttpMethod]
    HTTP_METHOD_PATCH: _ClassVar[HttpMethod]
    HTTP_METHOD_DELETE: _ClassVar[HttpMethod]

class McpServerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MCP_SERVER_STATUS_UNSPECIFIED: _ClassVar[McpServerStatus]
    MCP_SERVER_STATUS_READY: _ClassVar[McpServerStatus]
    MCP_SERVER_STATUS_UNREACHABLE: _ClassVar[McpServerStatus]
    MCP_SERVER_STATUS_AUTH_FAILED: _ClassVar[McpServerStatus]
    MCP_SERVER_STATUS_PROTOCOL_ERROR: _ClassVar[McpServerStatus]

class ConnectionProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_PROVIDER_UNSPECIFIED: _ClassVar[ConnectionProvider]
    CONNECTION_PROVIDER_NOTION: _ClassVar[ConnectionProvider]
    CONNECTION_PROVIDER_ASANA: _ClassVar[ConnectionProvider]
    CONNECTION_PROVIDER_CALDAV: _ClassVar[ConnectionProvider]
    CONNECTION_PROVIDER_GOOGLE_CALENDAR: _ClassVar[ConnectionProvider]

class ConnectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATUS_UNSPECIFIED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_READY: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_AUTH_FAILED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_UNREACHABLE: _ClassVar[ConnectionStatus]
TOOL_KIND_UNSPECIFIED: ToolKind
TOOL_KIND_BUILTIN: ToolKind
TOOL_KIND_HTTP_WEBHOOK: ToolKind
TOOL_KIND_MCP: ToolKind
BUILTIN_TOOL_UNSPECIFIED: BuiltinTool
BUILTIN_TOOL_SAVE_USER_INFO: BuiltinTool
BUILTIN_TOOL_CREATE_TASK: BuiltinTool
BUILTIN_TOOL_SCHEDULE_EVENT: BuiltinTool
BUILTIN_TOOL_CALL_OPERATOR: BuiltinTool
HTTP_METHOD_UNSPECIFIED: HttpMethod
HTTP_METHOD_GET: HttpMethod
HTTP_METHOD_POST: HttpMethod
HTTP_METHOD_PUT: HttpMethod
HTTP_METHOD_PATCH: HttpMethod
HTTP_METHOD_DELETE: HttpMethod
MCP_SERVER_STATUS_UNSPECIFIED: McpServerStatus
MCP_SERVER_STATUS_READY: McpServerStatus
MCP_SERVER_STATUS_UNREACHABLE: McpServerStatus
MCP_SERVER_STATUS_AUTH_FAILED: McpServerStatus
MCP_SERVER_STATUS_PROTOCOL_ERROR: McpServerStatus
CONNECTION_PROVIDER_UNSPECIFIED: ConnectionProvider
CONNECTION_PROVIDER_NOTION: ConnectionProvider
CONNECTION_PROVIDER_ASANA: ConnectionProvider
CONNECTION_PROVIDER_CALDAV: ConnectionProvider
CONNECTION_PROVIDER_GOOGLE_CALENDAR: ConnectionProvider
CONNECTION_STATUS_UNSPECIFIED: ConnectionStatus
CONNECTION_STATUS_READY: ConnectionStatus
CONNECTION_STATUS_AUTH_FAILED: ConnectionStatus
CONNECTION_STATUS_UNREACHABLE: ConnectionStatus

class Tool(_message.Message):
    __slots__ = ("id", "name", "description", "kind", "parameters", "http_webhook", "mcp", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    HTTP_WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    MCP_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    kind: ToolKind
    parameters: _struct_pb2.Struct
    http_webhook: HttpWebhookConfig
    mcp: McpToolSource
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[ToolKind, str]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., http_webhook: _Optional[_Union[HttpWebhookConfig, _Mapping]] = ..., mcp: _Optional[_Union[McpToolSource, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HttpWebhookConfig(_message.Message):
    __slots__ = ("url", "method", "headers", "secret_headers", "secret_header_names", "signing_secret", "timeout_ms")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SecretHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    SECRET_HEADERS_FIELD_NUMBER: _ClassVar[int]
    SECRET_HEADER_NAMES_FIELD_NUMBER: _ClassVar[int]
    SIGNING_SECRET_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    url: str
    method: HttpMethod
    headers: _containers.ScalarMap[str, str]
    secret_headers: _containers.ScalarMap[str, str]
    secret_header_names: _containers.RepeatedScalarFieldContainer[str]
    signing_secret: str
    timeout_ms: int
    def __init__(self, url: _Optional[str] = ..., method: _Optional[_Union[HttpMethod, str]] = ..., headers: _Optional[_Mapping[str, str]] = ..., secret_headers: _Optional[_Mapping[str, str]] = ..., secret_header_names: _Optional[_Iterable[str]] = ..., signing_secret: _Optional[str] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class McpToolSource(_message.Message):
    __slots__ = ("mcp_server_id", "remote_name")
    MCP_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    REMOTE_NAME_FIELD_NUMBER: _ClassVar[int]
    mcp_server_id: str
    remote_name: str
    def __init__(self, mcp_server_id: _Optional[str] = ..., remote_name: _Optional[str] = ...) -> None: ...

class BuiltinToolInfo(_message.Message):
    __slots__ = ("builtin", "name", "description", "parameters", "connection_providers")
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    builtin: BuiltinTool
    name: str
    description: str
    parameters: _struct_pb2.Struct
    connection_providers: _containers.RepeatedScalarFieldContainer[ConnectionProvider]
    def __init__(self, builtin: _Optional[_Union[BuiltinTool, str]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., connection_providers: _Optional[_Iterable[_Union[ConnectionProvider, str]]] = ...) -> None: ...

class ToolDefinition(_message.Message):
    __slots__ = ("name", "description", "parameters", "kind", "tool_id", "builtin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TOOL_ID_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters: _struct_pb2.Struct
    kind: ToolKind
    tool_id: str
    builtin: BuiltinTool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., kind: _Optional[_Union[ToolKind, str]] = ..., tool_id: _Optional[str] = ..., builtin: _Optional[_Union[BuiltinTool, str]] = ...) -> None: ...

class McpServer(_message.Message):
    __slots__ = ("id", "name", "url", "auth_header_name", "auth_header_value", "has_auth_header", "tools", "status", "status_message", "refresh_time", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    AUTH_HEADER_NAME_FIELD_NUMBER: _ClassVar[int]
    AUTH_HEADER_VALUE_FIELD_NUMBER: _ClassVar[int]
    HAS_AUTH_HEADER_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    url: str
    auth_header_name: str
    auth_header_value: str
    has_auth_header: bool
    tools: _containers.RepeatedCompositeFieldContainer[Tool]
    status: McpServerStatus
    status_message: str
    refresh_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., url: _Optional[str] = ..., auth_header_name: _Optional[str] = ..., auth_header_value: _Optional[str] = ..., has_auth_header: _Optional[bool] = ..., tools: _Optional[_Iterable[_Union[Tool, _Mapping]]] = ..., status: _Optional[_Union[McpServerStatus, str]] = ..., status_message: _Optional[str] = ..., refresh_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ToolConnection(_message.Message):
    __slots__ = ("id", "display_name", "provider", "notion", "asana", "caldav", "google_calendar", "status", "status_message", "check_time", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    NOTION_FIELD_NUMBER: _ClassVar[int]
    ASANA_FIELD_NUMBER: _ClassVar[int]
    CALDAV_FIELD_NUMBER: _ClassVar[int]
    GOOGLE_CALENDAR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    provider: ConnectionProvider
    notion: NotionConnection
    asana: AsanaConnection
    caldav: CalDavConnection
    google_calendar: GoogleCalendarConnection
    status: ConnectionStatus
    status_message: str
    check_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., provider: _Optional[_Union[ConnectionProvider, str]] = ..., notion: _Optional[_Union[NotionConnection, _Mapping]] = ..., asana: _Optional[_Union[AsanaConnection, _Mapping]] = ..., caldav: _Optional[_Union[CalDavConnection, _Mapping]] = ..., google_calendar: _Optional[_Union[GoogleCalendarConnection, _Mapping]] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., status_message: _Optional[str] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NotionConnection(_message.Message):
    __slots__ = ("api_token", "database_id")
    API_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DATABASE_ID_FIELD_NUMBER: _ClassVar[int]
    api_token: str
    database_id: str
    def __init__(self, api_token: _Optional[str] = ..., database_id: _Optional[str] = ...) -> None: ...

class AsanaConnection(_message.Message):
    __slots__ = ("access_token", "workspace_gid", "project_gid")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_GID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_GID_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    workspace_gid: str
    project_gid: str
    def __init__(self, access_token: _Optional[str] = ..., workspace_gid: _Optional[str] = ..., project_gid: _Optional[str] = ...) -> None: ...

class CalDavConnection(_message.Message):
    __slots__ = ("calendar_url", "username", "password")
    CALENDAR_URL_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    calendar_url: str
    username: str
    password: str
    def __init__(self, calendar_url: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class GoogleCalendarConnection(_message.Message):
    __slots__ = ("service_account_key_json", "calendar_id", "service_account_email")
    SERVICE_ACCOUNT_KEY_JSON_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ACCOUNT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    service_account_key_json: str
    calendar_id: str
    service_account_email: str
    def __init__(self, service_account_key_json: _Optional[str] = ..., calendar_id: _Optional[str] = ..., service_account_email: _Optional[str] = ...) -> None: ...

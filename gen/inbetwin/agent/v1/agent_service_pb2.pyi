import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import code_pb2 as _code_pb2
from inbetwin.agent.v1 import action_pb2 as _action_pb2
from inbetwin.agent.v1 import agent_pb2 as _agent_pb2
from inbetwin.agent.v1 import handoff_pb2 as _handoff_pb2
from inbetwin.agent.v1 import tool_pb2 as _tool_pb2
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
    ERROR_REASON_AGENT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_AGENT_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_FIELD_NOT_UPDATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_PAGE_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_INTEGRATION_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_WORKING_HOURS: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_NAME_TAKEN: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_NAME_RESERVED: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_TOOL_SCHEMA: _ClassVar[ErrorReason]
    ERROR_REASON_HEADER_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_KIND_NOT_CREATABLE: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_MANAGED_BY_MCP_SERVER: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_NAME_TAKEN: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_LIMIT_REACHED: _ClassVar[ErrorReason]
    ERROR_REASON_CONNECTION_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_CONNECTION_PROVIDER_MISMATCH: _ClassVar[ErrorReason]
    ERROR_REASON_CONNECTION_CREDENTIALS_MISSING: _ClassVar[ErrorReason]
    ERROR_REASON_HANDOFF_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_ACTION_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_CONTACT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_TIME_RANGE: _ClassVar[ErrorReason]
    ERROR_REASON_ACTION_KIND_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_CALL_ID_REUSED: _ClassVar[ErrorReason]
    ERROR_REASON_SUBSCRIBER_TOO_SLOW: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_UNKNOWN: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_NOT_ALLOWED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_TOOL_ARGUMENTS: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_TIMEOUT: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_RESPONSE_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_DESTINATION_FORBIDDEN: _ClassVar[ErrorReason]
    ERROR_REASON_TOOL_UPSTREAM_ERROR: _ClassVar[ErrorReason]
    ERROR_REASON_MCP_SERVER_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_CONNECTION_MISSING: _ClassVar[ErrorReason]
    ERROR_REASON_CONNECTION_REJECTED: _ClassVar[ErrorReason]
    ERROR_REASON_SLOT_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_SLOT_OUTSIDE_WORKING_HOURS: _ClassVar[ErrorReason]
    ERROR_REASON_ACCOUNT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_AUTH_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_SOCIAL_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_CALL_IN_PROGRESS: _ClassVar[ErrorReason]
    ERROR_REASON_SECRETS_NOT_CONFIGURED: _ClassVar[ErrorReason]
    ERROR_REASON_SECRET_UNREADABLE: _ClassVar[ErrorReason]

class StreamEndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_END_REASON_UNSPECIFIED: _ClassVar[StreamEndReason]
    STREAM_END_REASON_MAX_DURATION: _ClassVar[StreamEndReason]
    STREAM_END_REASON_SERVER_SHUTDOWN: _ClassVar[StreamEndReason]
    STREAM_END_REASON_ERROR: _ClassVar[StreamEndReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_AGENT_NOT_FOUND: ErrorReason
ERROR_REASON_AGENT_LIMIT_REACHED: ErrorReason
ERROR_REASON_FIELD_NOT_UPDATABLE: ErrorReason
ERROR_REASON_INVALID_PAGE_TOKEN: ErrorReason
ERROR_REASON_INTEGRATION_NOT_FOUND: ErrorReason
ERROR_REASON_INVALID_WORKING_HOURS: ErrorReason
ERROR_REASON_TOOL_NOT_FOUND: ErrorReason
ERROR_REASON_TOOL_NAME_TAKEN: ErrorReason
ERROR_REASON_TOOL_NAME_RESERVED: ErrorReason
ERROR_REASON_TOOL_LIMIT_REACHED: ErrorReason
ERROR_REASON_INVALID_TOOL_SCHEMA: ErrorReason
ERROR_REASON_HEADER_NOT_ALLOWED: ErrorReason
ERROR_REASON_TOOL_KIND_NOT_CREATABLE: ErrorReason
ERROR_REASON_TOOL_MANAGED_BY_MCP_SERVER: ErrorReason
ERROR_REASON_MCP_SERVER_NOT_FOUND: ErrorReason
ERROR_REASON_MCP_SERVER_NAME_TAKEN: ErrorReason
ERROR_REASON_MCP_SERVER_LIMIT_REACHED: ErrorReason
ERROR_REASON_CONNECTION_NOT_FOUND: ErrorReason
ERROR_REASON_CONNECTION_PROVIDER_MISMATCH: ErrorReason
ERROR_REASON_CONNECTION_CREDENTIALS_MISSING: ErrorReason
ERROR_REASON_HANDOFF_NOT_FOUND: ErrorReason
ERROR_REASON_ACTION_NOT_FOUND: ErrorReason
ERROR_REASON_CONTACT_NOT_FOUND: ErrorReason
ERROR_REASON_INVALID_TIME_RANGE: ErrorReason
ERROR_REASON_ACTION_KIND_NOT_ALLOWED: ErrorReason
ERROR_REASON_CALL_ID_REUSED: ErrorReason
ERROR_REASON_SUBSCRIBER_TOO_SLOW: ErrorReason
ERROR_REASON_TOOL_UNKNOWN: ErrorReason
ERROR_REASON_TOOL_NOT_ALLOWED: ErrorReason
ERROR_REASON_INVALID_TOOL_ARGUMENTS: ErrorReason
ERROR_REASON_TOOL_TIMEOUT: ErrorReason
ERROR_REASON_TOOL_RESPONSE_TOO_LARGE: ErrorReason
ERROR_REASON_TOOL_DESTINATION_FORBIDDEN: ErrorReason
ERROR_REASON_TOOL_UPSTREAM_ERROR: ErrorReason
ERROR_REASON_MCP_SERVER_UNAVAILABLE: ErrorReason
ERROR_REASON_CONNECTION_MISSING: ErrorReason
ERROR_REASON_CONNECTION_REJECTED: ErrorReason
ERROR_REASON_SLOT_UNAVAILABLE: ErrorReason
ERROR_REASON_SLOT_OUTSIDE_WORKING_HOURS: ErrorReason
ERROR_REASON_ACCOUNT_NOT_FOUND: ErrorReason
ERROR_REASON_AUTH_UNAVAILABLE: ErrorReason
ERROR_REASON_SOCIAL_UNAVAILABLE: ErrorReason
ERROR_REASON_CALL_IN_PROGRESS: ErrorReason
ERROR_REASON_SECRETS_NOT_CONFIGURED: ErrorReason
ERROR_REASON_SECRET_UNREADABLE: ErrorReason
STREAM_END_REASON_UNSPECIFIED: StreamEndReason
STREAM_END_REASON_MAX_DURATION: StreamEndReason
STREAM_END_REASON_SERVER_SHUTDOWN: StreamEndReason
STREAM_END_REASON_ERROR: StreamEndReason

class CreateAgentRequest(_message.Message):
    __slots__ = ("agent", "request_id")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    request_id: str
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class GetAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "integration_id", "enabled_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    integration_id: str
    enabled_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., integration_id: _Optional[str] = ..., enabled_only: _Optional[bool] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents", "next_page_token")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    next_page_token: str
    def __init__(self, agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateAgentRequest(_message.Message):
    __slots__ = ("agent", "update_mask")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class DeleteAgentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBuiltinToolsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBuiltinToolsResponse(_message.Message):
    __slots__ = ("builtin_tools", "next_page_token")
    BUILTIN_TOOLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    builtin_tools: _containers.RepeatedCompositeFieldContainer[_tool_pb2.BuiltinToolInfo]
    next_page_token: str
    def __init__(self, builtin_tools: _Optional[_Iterable[_Union[_tool_pb2.BuiltinToolInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateToolRequest(_message.Message):
    __slots__ = ("tool", "request_id")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tool: _tool_pb2.Tool
    request_id: str
    def __init__(self, tool: _Optional[_Union[_tool_pb2.Tool, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateToolResponse(_message.Message):
    __slots__ = ("tool", "generated_signing_secret")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_SIGNING_SECRET_FIELD_NUMBER: _ClassVar[int]
    tool: _tool_pb2.Tool
    generated_signing_secret: str
    def __init__(self, tool: _Optional[_Union[_tool_pb2.Tool, _Mapping]] = ..., generated_signing_secret: _Optional[str] = ...) -> None: ...

class GetToolRequest(_message.Message):
    __slots__ = ("tool_id",)
    TOOL_ID_FIELD_NUMBER: _ClassVar[int]
    tool_id: str
    def __init__(self, tool_id: _Optional[str] = ...) -> None: ...

class GetToolResponse(_message.Message):
    __slots__ = ("tool",)
    TOOL_FIELD_NUMBER: _ClassVar[int]
    tool: _tool_pb2.Tool
    def __init__(self, tool: _Optional[_Union[_tool_pb2.Tool, _Mapping]] = ...) -> None: ...

class ListToolsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "kind", "mcp_server_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MCP_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    kind: _tool_pb2.ToolKind
    mcp_server_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., kind: _Optional[_Union[_tool_pb2.ToolKind, str]] = ..., mcp_server_id: _Optional[str] = ...) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools", "next_page_token")
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[_tool_pb2.Tool]
    next_page_token: str
    def __init__(self, tools: _Optional[_Iterable[_Union[_tool_pb2.Tool, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateToolRequest(_message.Message):
    __slots__ = ("tool", "update_mask")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tool: _tool_pb2.Tool
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tool: _Optional[_Union[_tool_pb2.Tool, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateToolResponse(_message.Message):
    __slots__ = ("tool",)
    TOOL_FIELD_NUMBER: _ClassVar[int]
    tool: _tool_pb2.Tool
    def __init__(self, tool: _Optional[_Union[_tool_pb2.Tool, _Mapping]] = ...) -> None: ...

class DeleteToolRequest(_message.Message):
    __slots__ = ("tool_id",)
    TOOL_ID_FIELD_NUMBER: _ClassVar[int]
    tool_id: str
    def __init__(self, tool_id: _Optional[str] = ...) -> None: ...

class DeleteToolResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateMcpServerRequest(_message.Message):
    __slots__ = ("mcp_server", "request_id")
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    request_id: str
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateMcpServerResponse(_message.Message):
    __slots__ = ("mcp_server",)
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ...) -> None: ...

class GetMcpServerRequest(_message.Message):
    __slots__ = ("mcp_server_id",)
    MCP_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    mcp_server_id: str
    def __init__(self, mcp_server_id: _Optional[str] = ...) -> None: ...

class GetMcpServerResponse(_message.Message):
    __slots__ = ("mcp_server",)
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ...) -> None: ...

class ListMcpServersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMcpServersResponse(_message.Message):
    __slots__ = ("mcp_servers", "next_page_token")
    MCP_SERVERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mcp_servers: _containers.RepeatedCompositeFieldContainer[_tool_pb2.McpServer]
    next_page_token: str
    def __init__(self, mcp_servers: _Optional[_Iterable[_Union[_tool_pb2.McpServer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateMcpServerRequest(_message.Message):
    __slots__ = ("mcp_server", "update_mask")
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateMcpServerResponse(_message.Message):
    __slots__ = ("mcp_server",)
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ...) -> None: ...

class DeleteMcpServerRequest(_message.Message):
    __slots__ = ("mcp_server_id",)
    MCP_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    mcp_server_id: str
    def __init__(self, mcp_server_id: _Optional[str] = ...) -> None: ...

class DeleteMcpServerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshMcpServerRequest(_message.Message):
    __slots__ = ("mcp_server_id",)
    MCP_SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    mcp_server_id: str
    def __init__(self, mcp_server_id: _Optional[str] = ...) -> None: ...

class RefreshMcpServerResponse(_message.Message):
    __slots__ = ("mcp_server", "added_tool_names", "removed_tool_names")
    MCP_SERVER_FIELD_NUMBER: _ClassVar[int]
    ADDED_TOOL_NAMES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_TOOL_NAMES_FIELD_NUMBER: _ClassVar[int]
    mcp_server: _tool_pb2.McpServer
    added_tool_names: _containers.RepeatedScalarFieldContainer[str]
    removed_tool_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mcp_server: _Optional[_Union[_tool_pb2.McpServer, _Mapping]] = ..., added_tool_names: _Optional[_Iterable[str]] = ..., removed_tool_names: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateToolConnectionRequest(_message.Message):
    __slots__ = ("tool_connection", "request_id")
    TOOL_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tool_connection: _tool_pb2.ToolConnection
    request_id: str
    def __init__(self, tool_connection: _Optional[_Union[_tool_pb2.ToolConnection, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateToolConnectionResponse(_message.Message):
    __slots__ = ("tool_connection",)
    TOOL_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    tool_connection: _tool_pb2.ToolConnection
    def __init__(self, tool_connection: _Optional[_Union[_tool_pb2.ToolConnection, _Mapping]] = ...) -> None: ...

class GetToolConnectionRequest(_message.Message):
    __slots__ = ("tool_connection_id",)
    TOOL_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    tool_connection_id: str
    def __init__(self, tool_connection_id: _Optional[str] = ...) -> None: ...

class GetToolConnectionResponse(_message.Message):
    __slots__ = ("tool_connection",)
    TOOL_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    tool_connection: _tool_pb2.ToolConnection
    def __init__(self, tool_connection: _Optional[_Union[_tool_pb2.ToolConnection, _Mapping]] = ...) -> None: ...

class ListToolConnectionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "provider")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    provider: _tool_pb2.ConnectionProvider
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., provider: _Optional[_Union[_tool_pb2.ConnectionProvider, str]] = ...) -> None: ...

class ListToolConnectionsResponse(_message.Message):
    __slots__ = ("tool_connections", "next_page_token")
    TOOL_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tool_connections: _containers.RepeatedCompositeFieldContainer[_tool_pb2.ToolConnection]
    next_page_token: str
    def __init__(self, tool_connections: _Optional[_Iterable[_Union[_tool_pb2.ToolConnection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateToolConnectionRequest(_message.Message):
    __slots__ = ("tool_connection", "update_mask")
    TOOL_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tool_connection: _tool_pb2.ToolConnection
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tool_connection: _Optional[_Union[_tool_pb2.ToolConnection, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateToolConnectionResponse(_message.Message):
    __slots__ = ("tool_connection",)
    TOOL_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    tool_connection: _tool_pb2.ToolConnection
    def __init__(self, tool_connection: _Optional[_Union[_tool_pb2.ToolConnection, _Mapping]] = ...) -> None: ...

class DeleteToolConnectionRequest(_message.Message):
    __slots__ = ("tool_connection_id",)
    TOOL_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    tool_connection_id: str
    def __init__(self, tool_connection_id: _Optional[str] = ...) -> None: ...

class DeleteToolConnectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAgentToolsetRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class GetAgentToolsetResponse(_message.Message):
    __slots__ = ("agent", "tools")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    tools: _containers.RepeatedCompositeFieldContainer[_tool_pb2.ToolDefinition]
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., tools: _Optional[_Iterable[_Union[_tool_pb2.ToolDefinition, _Mapping]]] = ...) -> None: ...

class ExecuteToolRequest(_message.Message):
    __slots__ = ("agent_id", "integration_id", "contact_id", "message_id", "tool_name", "arguments_json", "call_id", "dry_run")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    integration_id: str
    contact_id: str
    message_id: str
    tool_name: str
    arguments_json: str
    call_id: str
    dry_run: bool
    def __init__(self, agent_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., message_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., arguments_json: _Optional[str] = ..., call_id: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ExecuteToolResponse(_message.Message):
    __slots__ = ("action_id", "status", "result_json", "error_reason", "error_message", "duration", "tool_kind", "replayed", "handoff", "simulated")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    TOOL_KIND_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    status: _action_pb2.ActionStatus
    result_json: str
    error_reason: ErrorReason
    error_message: str
    duration: _duration_pb2.Duration
    tool_kind: _tool_pb2.ToolKind
    replayed: bool
    handoff: _handoff_pb2.Handoff
    simulated: bool
    def __init__(self, action_id: _Optional[str] = ..., status: _Optional[_Union[_action_pb2.ActionStatus, str]] = ..., result_json: _Optional[str] = ..., error_reason: _Optional[_Union[ErrorReason, str]] = ..., error_message: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tool_kind: _Optional[_Union[_tool_pb2.ToolKind, str]] = ..., replayed: _Optional[bool] = ..., handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ..., simulated: _Optional[bool] = ...) -> None: ...

class ListAgentActionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id", "contact_id", "kind", "status", "start_time", "end_time", "message_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    contact_id: str
    kind: _action_pb2.ActionKind
    status: _action_pb2.ActionStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    message_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., kind: _Optional[_Union[_action_pb2.ActionKind, str]] = ..., status: _Optional[_Union[_action_pb2.ActionStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message_id: _Optional[str] = ...) -> None: ...

class ListAgentActionsResponse(_message.Message):
    __slots__ = ("actions", "next_page_token")
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    actions: _containers.RepeatedCompositeFieldContainer[_action_pb2.AgentAction]
    next_page_token: str
    def __init__(self, actions: _Optional[_Iterable[_Union[_action_pb2.AgentAction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAgentActionRequest(_message.Message):
    __slots__ = ("action_id",)
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    def __init__(self, action_id: _Optional[str] = ...) -> None: ...

class GetAgentActionResponse(_message.Message):
    __slots__ = ("action",)
    ACTION_FIELD_NUMBER: _ClassVar[int]
    action: _action_pb2.AgentAction
    def __init__(self, action: _Optional[_Union[_action_pb2.AgentAction, _Mapping]] = ...) -> None: ...

class CreateAgentActionRequest(_message.Message):
    __slots__ = ("action", "request_id")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    action: _action_pb2.AgentAction
    request_id: str
    def __init__(self, action: _Optional[_Union[_action_pb2.AgentAction, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateAgentActionResponse(_message.Message):
    __slots__ = ("action",)
    ACTION_FIELD_NUMBER: _ClassVar[int]
    action: _action_pb2.AgentAction
    def __init__(self, action: _Optional[_Union[_action_pb2.AgentAction, _Mapping]] = ...) -> None: ...

class WatchAgentActivityRequest(_message.Message):
    __slots__ = ("agent_id", "contact_id", "kinds", "replay_since")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_SINCE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    contact_id: str
    kinds: _containers.RepeatedScalarFieldContainer[_action_pb2.ActionKind]
    replay_since: _timestamp_pb2.Timestamp
    def __init__(self, agent_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[_action_pb2.ActionKind, str]]] = ..., replay_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchAgentActivityResponse(_message.Message):
    __slots__ = ("action", "heartbeat", "error", "end")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    action: _action_pb2.AgentAction
    heartbeat: StreamHeartbeat
    error: StreamError
    end: StreamEnd
    def __init__(self, action: _Optional[_Union[_action_pb2.AgentAction, _Mapping]] = ..., heartbeat: _Optional[_Union[StreamHeartbeat, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ...) -> None: ...

class StreamHeartbeat(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "reason", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: _code_pb2.Code
    reason: str
    message: str
    def __init__(self, code: _Optional[_Union[_code_pb2.Code, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("reason", "last_action_time")
    REASON_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTION_TIME_FIELD_NUMBER: _ClassVar[int]
    reason: StreamEndReason
    last_action_time: _timestamp_pb2.Timestamp
    def __init__(self, reason: _Optional[_Union[StreamEndReason, str]] = ..., last_action_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateHandoffRequest(_message.Message):
    __slots__ = ("integration_id", "contact_id", "reason", "request_id")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    contact_id: str
    reason: str
    request_id: str
    def __init__(self, integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateHandoffResponse(_message.Message):
    __slots__ = ("handoff", "created")
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    handoff: _handoff_pb2.Handoff
    created: bool
    def __init__(self, handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetHandoffRequest(_message.Message):
    __slots__ = ("handoff_id",)
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    def __init__(self, handoff_id: _Optional[str] = ...) -> None: ...

class GetHandoffResponse(_message.Message):
    __slots__ = ("handoff",)
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    handoff: _handoff_pb2.Handoff
    def __init__(self, handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ...) -> None: ...

class ListHandoffsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "agent_id", "contact_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _handoff_pb2.HandoffState
    agent_id: str
    contact_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_handoff_pb2.HandoffState, str]] = ..., agent_id: _Optional[str] = ..., contact_id: _Optional[str] = ...) -> None: ...

class ListHandoffsResponse(_message.Message):
    __slots__ = ("handoffs", "next_page_token")
    HANDOFFS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    handoffs: _containers.RepeatedCompositeFieldContainer[_handoff_pb2.Handoff]
    next_page_token: str
    def __init__(self, handoffs: _Optional[_Iterable[_Union[_handoff_pb2.Handoff, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ResolveHandoffRequest(_message.Message):
    __slots__ = ("handoff_id", "note")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    note: str
    def __init__(self, handoff_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ResolveHandoffResponse(_message.Message):
    __slots__ = ("handoff",)
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    handoff: _handoff_pb2.Handoff
    def __init__(self, handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ...) -> None: ...

class RequestHandoffRequest(_message.Message):
    __slots__ = ("integration_id", "contact_id", "requested_by", "agent_id", "message_id", "reason", "request_id")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    contact_id: str
    requested_by: _handoff_pb2.HandoffRequester
    agent_id: str
    message_id: str
    reason: str
    request_id: str
    def __init__(self, integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., requested_by: _Optional[_Union[_handoff_pb2.HandoffRequester, str]] = ..., agent_id: _Optional[str] = ..., message_id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RequestHandoffResponse(_message.Message):
    __slots__ = ("handoff", "created")
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    handoff: _handoff_pb2.Handoff
    created: bool
    def __init__(self, handoff: _Optional[_Union[_handoff_pb2.Handoff, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetConversationControlRequest(_message.Message):
    __slots__ = ("integration_id", "contact_id", "agent_id")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    contact_id: str
    agent_id: str
    def __init__(self, integration_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class GetConversationControlResponse(_message.Message):
    __slots__ = ("control",)
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    control: _handoff_pb2.ConversationControl
    def __init__(self, control: _Optional[_Union[_handoff_pb2.ConversationControl, _Mapping]] = ...) -> None: ...

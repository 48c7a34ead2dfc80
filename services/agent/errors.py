"""agent's RPC errors: one constructor per `ErrorReason` the handlers raise."""

from __future__ import annotations

import grpc

from services.kit.errors import ServiceError, not_found

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def agent_not_found() -> ServiceError:
    return not_found("AGENT_NOT_FOUND", "agent")


def tool_not_found() -> ServiceError:
    return not_found("TOOL_NOT_FOUND", "tool")


def connection_not_found() -> ServiceError:
    return not_found("CONNECTION_NOT_FOUND", "tool connection")


def mcp_server_not_found() -> ServiceError:
    return not_found("MCP_SERVER_NOT_FOUND", "MCP server")


def handoff_not_found() -> ServiceError:
    return not_found("HANDOFF_NOT_FOUND", "handoff")


def action_not_found() -> ServiceError:
    return not_found("ACTION_NOT_FOUND", "action")


def integration_not_found(integration_id: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.NOT_FOUND,
        "INTEGRATION_NOT_FOUND",
        f"integration {integration_id} not found",
        metadata={"integration_id": integration_id},
    )


def contact_not_found() -> ServiceError:
    return not_found("CONTACT_NOT_FOUND", "contact on that integration")


def agent_limit_reached(limit: int) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "AGENT_LIMIT_REACHED",
        f"your plan allows {limit} agent(s)",
        metadata={"max_agents": str(limit)},
    )


def limit_reached(reason: str, what: str, limit: int) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        reason,
        f"at most {limit} {what} per owner",
        metadata={"limit": str(limit)},
    )


def field_not_updatable(paths: list[str]) -> ServiceError:
    return ServiceError(
        INVALID,
        "FIELD_NOT_UPDATABLE",
        f"update_mask names fields that cannot be changed: {', '.join(paths)}",
        metadata={"paths": ",".join(paths)},
    )


def invalid(reason: str, message: str, **metadata: str) -> ServiceError:
    return ServiceError(INVALID, reason, message, metadata=metadata)


def already_exists(reason: str, message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.ALREADY_EXISTS, reason, message)


def failed_precondition(reason: str, message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, reason, message)


def page_token_invalid() -> ServiceError:
    return invalid("INVALID_PAGE_TOKEN", "page_token is malformed or belongs to other filters")


def unavailable(reason: str, message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAVAILABLE, reason, message, retry_after_seconds=1.0)


def secrets_not_configured() -> ServiceError:
    return failed_precondition(
        "SECRETS_NOT_CONFIGURED",
        "this deployment has no secret_encryption_keys: secrets cannot be stored",
    )

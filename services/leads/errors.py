"""leads's errors: ErrorReason values of the contract, as ServiceErrors."""

from __future__ import annotations

import grpc

from services.kit.errors import ServiceError, not_found


def lead_not_found() -> ServiceError:
    return not_found("LEAD_NOT_FOUND", "lead")


def field_not_updatable(message: str, paths: list[str]) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "FIELD_NOT_UPDATABLE",
        message,
        metadata={"paths": ",".join(paths)},
    )


def page_token_invalid() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
        "page_token is malformed or belongs to a different query",
    )


def resync_required(max_hours: float) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "RESYNC_REQUIRED",
        f"since_time is more than {max_hours:g} hours ago: reload with ListLeads, then watch "
        "without since_time",
    )


def watch_limit_reached(limit: int) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "WATCH_LIMIT_REACHED",
        f"at most {limit} open watch streams per owner",
        metadata={"limit": str(limit)},
    )


def unavailable(what: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE", f"{what} is unavailable")

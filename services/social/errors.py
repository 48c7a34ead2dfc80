"""social's domain errors (reasons are `ErrorReason` names without the `ERROR_REASON_` prefix)."""

from __future__ import annotations

import grpc

from services.kit.errors import ServiceError, not_found, unauthenticated
from services.social.platforms.types import InvalidCredentialsError, PlatformError, RetryLaterError


def integration_not_found() -> ServiceError:
    return not_found("INTEGRATION_NOT_FOUND", "integration")


def webhook_signature_invalid() -> ServiceError:
    return unauthenticated("WEBHOOK_SIGNATURE_INVALID", "webhook secret is missing or wrong")


def webhook_payload_invalid(detail: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "WEBHOOK_PAYLOAD_INVALID",
        f"invalid webhook payload: {detail}",
    )


def storage_unavailable() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE", "storage is unavailable, retry later"
    )


def unsupported_platform(platform: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "UNSUPPORTED_PLATFORM",
        f"connecting {platform} is not available in this deployment",
    )


def already_connected() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.ALREADY_EXISTS,
        "INTEGRATION_ALREADY_CONNECTED",
        "this platform account is already connected",
    )


def request_id_reused() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
        "request_id was used for another request",
    )


def page_token_invalid() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID", "page_token is invalid"
    )


def platform_call_failed(error: PlatformError, *, webhook_setup: bool = False) -> ServiceError:
    """Map a failed credential check or webhook registration to the contract's reasons."""
    if isinstance(error, RetryLaterError):
        return ServiceError(
            grpc.StatusCode.UNAVAILABLE,
            "PLATFORM_RATE_LIMITED",
            f"the platform asked to retry later: {error.description}",
            retry_after_seconds=error.retry_after,
        )
    if isinstance(error, InvalidCredentialsError):
        return ServiceError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "PLATFORM_REJECTED_CREDENTIALS",
            f"the platform rejected the credentials: {error.description}",
        )
    if error.status and 400 <= error.status < 500:
        reason = "WEBHOOK_SETUP_FAILED" if webhook_setup else "PLATFORM_REJECTED_CREDENTIALS"
        return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, reason, error.description)
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "PLATFORM_UNAVAILABLE",
        f"the platform is unavailable: {error.description}",
    )

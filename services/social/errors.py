"""social's domain errors (reasons are `ErrorReason` names without the `ERROR_REASON_` prefix)."""

from __future__ import annotations

import grpc

from services.kit.errors import ServiceError, not_found, unauthenticated
from services.social.platforms.types import (
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    PermissionMissingError,
    PlatformError,
    RetryLaterError,
)


def integration_not_found() -> ServiceError:
    return not_found("INTEGRATION_NOT_FOUND", "integration")


def contact_not_found() -> ServiceError:
    return not_found("CONTACT_NOT_FOUND", "contact")


def message_not_found() -> ServiceError:
    return not_found("MESSAGE_NOT_FOUND", "message")


def integration_not_active() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "INTEGRATION_NOT_ACTIVE",
        "the integration is not active",
    )


def integration_limit_reached(*, limit: int, used: int) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "INTEGRATION_LIMIT_REACHED",
        f"the plan allows {limit} connected accounts and {used} are connected",
        metadata={"limit": str(limit), "used": str(used)},
    )


def contact_unreachable() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONTACT_UNREACHABLE",
        "the contact blocked or stopped the account; nothing can be sent until they write again",
    )


def message_too_long(max_length: int) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "MESSAGE_TOO_LONG",
        f"the platform accepts at most {max_length} characters",
        metadata={"max_length": str(max_length)},
    )


def field_not_updatable(path: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "FIELD_NOT_UPDATABLE",
        f"{path!r} cannot be updated",
        metadata={"field": path},
    )


def delivery_mode_unsupported(detail: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, "DELIVERY_MODE_UNSUPPORTED", detail)


def oauth_state_invalid() -> ServiceError:
    return unauthenticated("OAUTH_STATE_INVALID", "the OAuth state is unknown, expired or used")


def oauth_code_rejected(detail: str) -> ServiceError:
    return unauthenticated("OAUTH_CODE_REJECTED", f"the platform rejected the code: {detail}")


def oauth_denied(detail: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.PERMISSION_DENIED,
        "OAUTH_DENIED",
        f"the authorization was refused: {detail}",
    )


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


def credentials_for_another_platform(platform: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "UNSUPPORTED_PLATFORM",
        f"the credentials are for {platform}, not for this integration's platform",
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
    if isinstance(error, PermissionMissingError):
        return ServiceError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "PLATFORM_PERMISSION_MISSING",
            error.description,
            metadata={"missing": ",".join(error.missing)},
        )
    if isinstance(error, PermanentError | BlockedError) or (
        error.status and 400 <= error.status < 500
    ):
        reason = "WEBHOOK_SETUP_FAILED" if webhook_setup else "PLATFORM_REJECTED_CREDENTIALS"
        return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, reason, error.description)
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "PLATFORM_UNAVAILABLE",
        f"the platform is unavailable: {error.description}",
    )

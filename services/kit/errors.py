"""Domain errors and their mapping to `google.rpc.Status` with rich details.

Handlers raise a `ServiceError`; the error interceptor turns it into a gRPC status carrying an
`ErrorInfo` (UPPER_SNAKE reason, service domain) and, where relevant, `BadRequest` field
violations or `RetryInfo`. Envoy's transcoder turns that status into an HTTP status and JSON body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from services.kit.validation import FieldViolation


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    """Which limit a request ran into (`google.rpc.QuotaFailure.Violation`): the subject it is
    counted for (e.g. `owner`) and a description with the numbers."""

    subject: str
    description: str


class ServiceError(Exception):
    """An expected failure with a canonical code and a machine-readable reason."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        violations: Iterable[FieldViolation] = (),
        retry_after_seconds: float | None = None,
        quota_violations: Iterable[QuotaViolation] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.violations = list(violations)
        self.retry_after_seconds = retry_after_seconds
        self.quota_violations = list(quota_violations)

    def to_status(self, domain: str) -> status_pb2.Status:
        details: list[any_pb2.Any] = []
        info = error_details_pb2.ErrorInfo(
            reason=self.reason, domain=domain, metadata=self.metadata
        )
        details.append(_pack(info))
        if self.violations:
            bad_request = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in self.violations
                ]
            )
            details.append(_pack(bad_request))
        if self.retry_after_seconds is not None:
            seconds = max(0.0, self.retry_after_seconds)
            delay = duration_pb2.Duration(
                seconds=int(seconds), nanos=int((seconds % 1) * 1_000_000_000)
            )
            details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
        if self.quota_violations:
            failure = error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(
                        subject=v.subject, description=v.description
                    )
                    for v in self.quota_violations
                ]
            )
            details.append(_pack(failure))
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def invalid_argument(
    violations: Iterable[FieldViolation], reason: str = "INVALID_ARGUMENT"
) -> ServiceError:
    violations = list(violations)
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations[:5])
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        f"invalid request: {summary}" if summary else "invalid request",
        violations=violations,
    )


def not_found(reason: str, what: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.NOT_FOUND, reason, f"{what} not found")


def unauthenticated(reason: str, message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAUTHENTICATED, reason, message)


def internal_status(message: str = "internal error") -> status_pb2.Status:
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message)

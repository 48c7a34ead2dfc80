"""rag's errors: one constructor per `ErrorReason`, so handlers read like the contract."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from services.kit.errors import ServiceError, _pack, not_found


def knowledge_base_not_found() -> ServiceError:
    return not_found("KNOWLEDGE_BASE_NOT_FOUND", "knowledge base")


def document_not_found() -> ServiceError:
    return not_found("DOCUMENT_NOT_FOUND", "document")


def qa_pair_not_found() -> ServiceError:
    return not_found("QA_PAIR_NOT_FOUND", "Q&A pair")


def page_token_invalid() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
        "page_token is malformed or belongs to a different query",
    )


def field_not_updatable(allowed: tuple[str, ...], unknown: list[str]) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "FIELD_NOT_UPDATABLE",
        f"update_mask must name at least one of {', '.join(allowed)}",
        metadata={"paths": ",".join(unknown)},
    )


def embedding_unavailable(detail: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "EMBEDDING_UNAVAILABLE",
        f"the embeddings provider is unavailable: {detail}"[:500],
    )


class QuotaError(ServiceError):
    """RESOURCE_EXHAUSTED with a `QuotaFailure` detail saying which limit and by how much."""

    def __init__(self, *, limit_bytes: int, used_bytes: int, requested_bytes: int) -> None:
        over = used_bytes + requested_bytes - limit_bytes
        super().__init__(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "STORAGE_LIMIT_REACHED",
            f"the plan allows {limit_bytes} bytes of knowledge base; this would exceed it by "
            f"{over} bytes",
            metadata={
                "limit_bytes": str(limit_bytes),
                "used_bytes": str(used_bytes),
                "requested_bytes": str(requested_bytes),
            },
        )
        self.description = (
            f"{used_bytes} bytes used + {requested_bytes} requested > {limit_bytes} allowed"
        )

    def to_status(self, domain: str) -> status_pb2.Status:
        status = super().to_status(domain)
        failure = error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(
                    subject="owner", description=self.description
                )
            ]
        )
        status.details.append(_pack(failure))
        return status

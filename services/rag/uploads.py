"""The upload flow: check, store the original, record the document and queue its indexing
(DocumentUploaded through the outbox) in one transaction."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import sqlalchemy as sa
from inbetwin.events.v1 import rag_events_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event
from services.rag import repository, sniffing
from services.rag.entitlements import Entitlements
from services.rag.errors import QuotaError, knowledge_base_not_found
from services.rag.storage.base import ObjectStore
from services.rag.vectors.base import VectorStore, VectorStoreError

log = logging.getLogger("inbetwin.rag.uploads")


@dataclass(frozen=True, slots=True)
class Uploaded:
    row: Row[Any]
    outcome: int


def check_upload(data: bytes, max_bytes: int) -> str:
    """The sniffed content type; INVALID_ARGUMENT when too large or unsupported."""
    if len(data) > max_bytes:
        raise ServiceError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "DOCUMENT_TOO_LARGE",
            f"the file has {len(data)} bytes; at most {max_bytes} are accepted",
            metadata={"max_bytes": str(max_bytes)},
        )
    content_type = sniffing.sniff(data)
    if content_type not in sniffing.SUPPORTED:
        raise ServiceError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "UNSUPPORTED_CONTENT_TYPE",
            f"the file is {content_type}; supported: txt, md, html, pdf, docx",
            metadata={"content_type": content_type},
        )
    return content_type


class Uploads:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        objects: ObjectStore,
        vectors: VectorStore,
        entitlements: Entitlements,
        max_bytes: int,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._objects = objects
        self._vectors = vectors
        self._entitlements = entitlements
        self._max_bytes = max_bytes

    async def upload(self, owner_id: str, request: pb.UploadDocumentRequest) -> Uploaded:
        data = request.body.data
        content_type = check_upload(data, self._max_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        kb_id = request.knowledge_base_id
        async with self._engine.connect() as conn:
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner_id, knowledge_base_id=kb_id
            ):
                raise knowledge_base_not_found()
            existing = await repository.document_by_name(
                conn, knowledge_base_id=kb_id, file_name=request.file_name
            )
        if existing is not None and existing.sha256 == sha256:
            return Uploaded(existing, pb.UPLOAD_OUTCOME_UNCHANGED)
        limit = await self._entitlements.max_knowledge_base_bytes(owner_id)
        key = f"{owner_id}/{uuid.uuid4()}"
        await self._objects.put(key, data)
        try:
            result, replaced = await self._record(
                owner_id, request, key=key, content_type=content_type, sha256=sha256, limit=limit
            )
        except BaseException:
            await self._objects.delete(key)
            raise
        self._relay.notify()
        if result.outcome != pb.UPLOAD_OUTCOME_CREATED and replaced is not None:
            old_key, old_chunks = replaced
            await self._cleanup(owner_id, old_key, old_chunks)
        if result.outcome == pb.UPLOAD_OUTCOME_UNCHANGED:
            await self._objects.delete(key)
        return result

    async def _record(
        self,
        owner_id: str,
        request: pb.UploadDocumentRequest,
        *,
        key: str,
        content_type: str,
        sha256: str,
        limit: int,
    ) -> tuple[Uploaded, tuple[str, list[str]] | None]:
        size = len(request.body.data)
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner_id)
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner_id, knowledge_base_id=request.knowledge_base_id, lock=True
            ):
                raise knowledge_base_not_found()
            existing = await repository.document_by_name(
                conn, knowledge_base_id=request.knowledge_base_id, file_name=request.file_name
            )
            if existing is not None and existing.sha256 == sha256:
                return Uploaded(existing, pb.UPLOAD_OUTCOME_UNCHANGED), None
            used = await repository.owner_usage_bytes(conn, owner_id=owner_id)
            freed = existing.size_bytes if existing is not None else 0
            if used - freed + size > limit:
                raise QuotaError(limit_bytes=limit, used_bytes=used - freed, requested_bytes=size)
            content = {
                "content_type": content_type,
                "client_content_type": request.body.content_type[:255],
                "size_bytes": size,
                "sha256": sha256,
                "storage_key": key,
            }
            replaced: tuple[str, list[str]] | None = None
            if existing is None:
                row = await repository.insert_document(
                    conn,
                    owner_id=owner_id,
                    knowledge_base_id=request.knowledge_base_id,
                    file_name=request.file_name,
                    status=repository.PENDING,
                    **content,
                )
                outcome = pb.UPLOAD_OUTCOME_CREATED
            else:
                old_chunks = await repository.delete_chunks(conn, document_id=existing.id)
                row = await repository.requeue_document(
                    conn,
                    document_id=existing.id,
                    keep_live=False,
                    uploaded_at=sa.func.now(),
                    embedding_model="",
                    index_time=None,
                    **content,
                )
                replaced = (existing.storage_key, old_chunks)
                outcome = pb.UPLOAD_OUTCOME_REPLACED
            await repository.touch_knowledge_base(conn, knowledge_base_id=request.knowledge_base_id)
            await add_event(conn, index_command(row))
        return Uploaded(row, outcome), replaced

    async def _cleanup(self, owner_id: str, old_key: str, old_chunks: list[str]) -> None:
        try:
            await self._vectors.delete_ids(owner_id, old_chunks)
        except VectorStoreError:
            log.warning("could not delete replaced vectors", extra={"owner": owner_id})
        await self._objects.delete(old_key)


def index_command(row: Row[Any]) -> rag_events_pb2.DocumentUploaded:
    return new_event(
        rag_events_pb2.DocumentUploaded,
        owner_id=str(row.owner_id),
        document_id=str(row.id),
        revision=int(row.revision),
    )

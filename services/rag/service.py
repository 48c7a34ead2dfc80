"""RagService handlers: validate (the pipeline did), call the domain, map to proto."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
from google.api import httpbody_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb
from inbetwin.rag.v1 import rag_service_pb2_grpc
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.kit.identity import current_caller
from services.kit.outbox import OutboxRelay, add_event
from services.rag import mapping, pagination, repository
from services.rag.errors import (
    document_not_found,
    field_not_updatable,
    knowledge_base_not_found,
    qa_pair_not_found,
)
from services.rag.qa import UPDATABLE as QA_UPDATABLE
from services.rag.qa import QaPairs
from services.rag.search import Searcher
from services.rag.storage.base import ObjectMissingError, ObjectStore
from services.rag.uploads import Uploads, index_command
from services.rag.vectors.base import VectorStore, VectorStoreError
from services.rag.watch import Watches

log = logging.getLogger("inbetwin.rag")

KB_UPDATABLE = ("display_name", "description", "agent_id")


class RagServicer(rag_service_pb2_grpc.RagServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        objects: ObjectStore,
        vectors: VectorStore,
        uploads: Uploads,
        qa_pairs: QaPairs,
        searcher: Searcher,
        watches: Watches,
        embedding_model: str,
        max_knowledge_bases: int,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._objects = objects
        self._vectors = vectors
        self._uploads = uploads
        self._qa = qa_pairs
        self._searcher = searcher
        self._watches = watches
        self._model = embedding_model
        self._max_knowledge_bases = max_knowledge_bases
        self._background: set[asyncio.Task[None]] = set()

    # ---- knowledge bases ---------------------------------------------------------------

    async def CreateKnowledgeBase(
        self, request: pb.CreateKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateKnowledgeBaseResponse:
        owner = current_caller().user_id
        kb = request.knowledge_base
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner)
            if request.request_id:
                earlier = await repository.knowledge_base_by_request(
                    conn, owner_id=owner, request_id=request.request_id
                )
                if earlier is not None:
                    return pb.CreateKnowledgeBaseResponse(
                        knowledge_base=mapping.knowledge_base(earlier)
                    )
            if await repository.count_knowledge_bases(conn, owner_id=owner) >= (
                self._max_knowledge_bases
            ):
                raise ServiceError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "KNOWLEDGE_BASE_LIMIT_REACHED",
                    f"an owner may have at most {self._max_knowledge_bases} knowledge bases",
                )
            kb_id = await repository.insert_knowledge_base(
                conn,
                owner_id=owner,
                display_name=kb.display_name.strip(),
                description=kb.description.strip(),
                agent_id=kb.agent_id or None,
                embedding_model=self._model,
                request_id=request.request_id or None,
            )
            row = await repository.knowledge_base(conn, owner_id=owner, knowledge_base_id=kb_id)
        assert row is not None
        return pb.CreateKnowledgeBaseResponse(knowledge_base=mapping.knowledge_base(row))

    async def GetKnowledgeBase(
        self, request: pb.GetKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetKnowledgeBaseResponse:
        async with self._engine.connect() as conn:
            row = await repository.knowledge_base(
                conn,
                owner_id=current_caller().user_id,
                knowledge_base_id=request.knowledge_base_id,
            )
        if row is None:
            raise knowledge_base_not_found()
        return pb.GetKnowledgeBaseResponse(knowledge_base=mapping.knowledge_base(row))

    async def ListKnowledgeBases(
        self, request: pb.ListKnowledgeBasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListKnowledgeBasesResponse:
        owner = current_caller().user_id
        query = pagination.fingerprint("knowledge_bases", owner, request.agent_id)
        after = pagination.decode(request.page_token, query)
        size = pagination.page_size(request.page_size)
        async with self._engine.connect() as conn:
            rows = await repository.list_knowledge_bases(
                conn, owner_id=owner, agent_id=request.agent_id, after=after, limit=size + 1
            )
        return pb.ListKnowledgeBasesResponse(
            knowledge_bases=[mapping.knowledge_base(row) for row in rows[:size]],
            next_page_token=_next_token(rows, size, query, lambda row: row.created_at),
        )

    async def UpdateKnowledgeBase(
        self, request: pb.UpdateKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateKnowledgeBaseResponse:
        owner = current_caller().user_id
        paths = list(request.update_mask.paths)
        unknown = [path for path in paths if path not in KB_UPDATABLE]
        if unknown or not paths:
            raise field_not_updatable(KB_UPDATABLE, unknown)
        kb = request.knowledge_base
        if "display_name" in paths and not kb.display_name.strip():
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", "display_name is required"
            )
        values: dict[str, Any] = {}
        for path in paths:
            value = getattr(kb, path).strip()
            values[path] = (value or None) if path == "agent_id" else value
        async with self._engine.begin() as conn:
            if not await repository.update_knowledge_base(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id, values=values
            ):
                raise knowledge_base_not_found()
            row = await repository.knowledge_base(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id
            )
        assert row is not None
        return pb.UpdateKnowledgeBaseResponse(knowledge_base=mapping.knowledge_base(row))

    async def DeleteKnowledgeBase(
        self, request: pb.DeleteKnowledgeBaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteKnowledgeBaseResponse:
        owner = current_caller().user_id
        async with self._engine.begin() as conn:
            row = await repository.knowledge_base(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id
            )
            if row is None:
                raise knowledge_base_not_found()
            if not request.force and (row.document_count or row.qa_pair_count):
                raise ServiceError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "KNOWLEDGE_BASE_NOT_EMPTY",
                    "the knowledge base holds documents or Q&A pairs; delete with force",
                )
            keys = await repository.delete_knowledge_base(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id
            )
        await self._forget_vectors(
            lambda: self._vectors.delete_knowledge_base(owner, request.knowledge_base_id)
        )
        self._in_background(self._delete_objects(keys))
        return pb.DeleteKnowledgeBaseResponse()

    # ---- documents ---------------------------------------------------------------------

    async def UploadDocument(
        self, request: pb.UploadDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.UploadDocumentResponse:
        uploaded = await self._uploads.upload(current_caller().user_id, request)
        return pb.UploadDocumentResponse(
            document=mapping.document(uploaded.row),
            outcome=uploaded.outcome,  # type: ignore[arg-type]
        )

    async def GetDocument(
        self, request: pb.GetDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDocumentResponse:
        row = await self._document(request.document_id)
        return pb.GetDocumentResponse(document=mapping.document(row))

    async def ListDocuments(
        self, request: pb.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDocumentsResponse:
        owner = current_caller().user_id
        statuses = sorted(set(request.statuses))
        query = pagination.fingerprint(
            "documents", owner, request.knowledge_base_id, statuses, request.file_name_contains
        )
        after = pagination.decode(request.page_token, query)
        size = pagination.page_size(request.page_size)
        async with self._engine.connect() as conn:
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id
            ):
                raise knowledge_base_not_found()
            rows = await repository.list_documents(
                conn,
                owner_id=owner,
                knowledge_base_id=request.knowledge_base_id,
                statuses=statuses,
                name_contains=request.file_name_contains,
                after=after,
                limit=size + 1,
            )
        return pb.ListDocumentsResponse(
            documents=[mapping.document(row) for row in rows[:size]],
            next_page_token=_next_token(rows, size, query, lambda row: row.uploaded_at),
        )

    async def DeleteDocument(
        self, request: pb.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteDocumentResponse:
        owner = current_caller().user_id
        async with self._engine.begin() as conn:
            row = await repository.delete_document(
                conn, owner_id=owner, document_id=request.document_id
            )
            if row is None:
                raise document_not_found()
            await repository.touch_knowledge_base(conn, knowledge_base_id=row.knowledge_base_id)
        await self._forget_vectors(
            lambda: self._vectors.delete_sources(owner, [request.document_id])
        )
        self._in_background(self._delete_objects([row.storage_key]))
        return pb.DeleteDocumentResponse()

    async def ReindexDocument(
        self, request: pb.ReindexDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReindexDocumentResponse:
        owner = current_caller().user_id
        async with self._engine.begin() as conn:
            row = await repository.document(
                conn, owner_id=owner, document_id=request.document_id, lock=True
            )
            if row is None:
                raise document_not_found()
            if row.status in (repository.PENDING, repository.INDEXING):
                raise ServiceError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "INDEXING_IN_PROGRESS",
                    "the document is already queued or being indexed",
                )
            row = await repository.requeue_document(conn, document_id=row.id, keep_live=True)
            await add_event(conn, index_command(row))
        self._relay.notify()
        return pb.ReindexDocumentResponse(document=mapping.document(row))

    async def WatchDocument(
        self, request: pb.WatchDocumentRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchDocumentResponse]:
        async for message in self._watches.watch(current_caller().user_id, request.document_id):
            yield message

    async def DownloadDocument(
        self, request: pb.DownloadDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DownloadDocumentResponse:
        row = await self._document(request.document_id)
        try:
            data = await self._objects.get(row.storage_key)
        except ObjectMissingError as error:
            raise document_not_found() from error
        return pb.DownloadDocumentResponse(
            body=httpbody_pb2.HttpBody(content_type=row.content_type, data=data)
        )

    # ---- Q&A pairs ---------------------------------------------------------------------

    async def CreateQaPair(
        self, request: pb.CreateQaPairRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateQaPairResponse:
        row = await self._qa.create(
            current_caller().user_id,
            request.knowledge_base_id,
            request.qa_pair,
            request.request_id,
        )
        return pb.CreateQaPairResponse(qa_pair=mapping.qa_pair(row))

    async def GetQaPair(
        self, request: pb.GetQaPairRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQaPairResponse:
        async with self._engine.connect() as conn:
            row = await repository.qa_pair(
                conn, owner_id=current_caller().user_id, qa_pair_id=request.qa_pair_id
            )
        if row is None:
            raise qa_pair_not_found()
        return pb.GetQaPairResponse(qa_pair=mapping.qa_pair(row))

    async def ListQaPairs(
        self, request: pb.ListQaPairsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListQaPairsResponse:
        owner = current_caller().user_id
        query = pagination.fingerprint("qa", owner, request.knowledge_base_id, request.query)
        after = pagination.decode(request.page_token, query)
        size = pagination.page_size(request.page_size)
        async with self._engine.connect() as conn:
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner, knowledge_base_id=request.knowledge_base_id
            ):
                raise knowledge_base_not_found()
            rows = await repository.list_qa_pairs(
                conn,
                owner_id=owner,
                knowledge_base_id=request.knowledge_base_id,
                query=request.query,
                after=after,
                limit=size + 1,
            )
        return pb.ListQaPairsResponse(
            qa_pairs=[mapping.qa_pair(row) for row in rows[:size]],
            next_page_token=_next_token(rows, size, query, lambda row: row.created_at),
        )

    async def UpdateQaPair(
        self, request: pb.UpdateQaPairRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateQaPairResponse:
        paths = list(request.update_mask.paths)
        unknown = [path for path in paths if path not in QA_UPDATABLE]
        if unknown or not paths:
            raise field_not_updatable(QA_UPDATABLE, unknown)
        row = await self._qa.update(
            current_caller().user_id, request.qa_pair_id, request.qa_pair, paths
        )
        return pb.UpdateQaPairResponse(qa_pair=mapping.qa_pair(row))

    async def DeleteQaPair(
        self, request: pb.DeleteQaPairRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteQaPairResponse:
        await self._qa.delete(current_caller().user_id, request.qa_pair_id)
        return pb.DeleteQaPairResponse()

    # ---- search ------------------------------------------------------------------------

    async def Search(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchResponse:
        return await self._searcher.search(current_caller().user_id, request)

    # ---- helpers -----------------------------------------------------------------------

    async def _document(self, document_id: str) -> Row[Any]:
        async with self._engine.connect() as conn:
            row = await repository.document(
                conn, owner_id=current_caller().user_id, document_id=document_id
            )
        if row is None:
            raise document_not_found()
        return row

    async def _forget_vectors(self, delete: Callable[[], Any]) -> None:
        try:
            await delete()
        except VectorStoreError as error:
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE,
                "VECTOR_STORE_UNAVAILABLE",
                "deleted, but the vector store could not be cleaned up; the leftover vectors "
                "are never returned by search",
            ) from error

    async def _delete_objects(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                await self._objects.delete(key)
            except Exception:
                log.warning("could not delete an original", extra={"key": key})

    def _in_background(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _next_token(
    rows: Sequence[Row[Any]], size: int, query: str, time_of: Callable[[Row[Any]], Any]
) -> str:
    if len(rows) <= size:
        return ""
    last = rows[size - 1]
    return pagination.encode(pagination.Cursor(time_of(last), str(last.id)), query)

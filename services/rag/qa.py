"""Q&A pair writes: the question is embedded before the write commits, so a pair is
searchable the moment the RPC returns; its vector's id is the pair's id."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from inbetwin.rag.v1 import qa_pair_pb2
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.errors import ServiceError
from services.rag import language, repository
from services.rag.embeddings.base import Embedder, EmbeddingError
from services.rag.entitlements import Entitlements
from services.rag.errors import (
    QuotaError,
    embedding_unavailable,
    knowledge_base_not_found,
    qa_pair_not_found,
)
from services.rag.vectors.base import QA_PAIR, VectorRecord, VectorStore, VectorStoreError

UPDATABLE = ("question", "answer")


def question_taken(existing_id: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.ALREADY_EXISTS,
        "QUESTION_TAKEN",
        "the knowledge base already has this question",
        metadata={"qa_pair_id": existing_id},
    )


def _size(question: str, answer: str) -> int:
    return len(question.encode()) + len(answer.encode())


class QaPairs:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        embedder: Embedder,
        vectors: VectorStore,
        entitlements: Entitlements,
    ) -> None:
        self._engine = engine
        self._embedder = embedder
        self._vectors = vectors
        self._entitlements = entitlements

    async def _embed(self, question: str) -> list[float]:
        try:
            (vector,) = await self._embedder.embed([question])
        except EmbeddingError as error:
            raise embedding_unavailable(str(error)) from error
        return vector

    async def _store_vector(
        self, owner_id: str, *, qa_pair_id: str, knowledge_base_id: str, vector: list[float]
    ) -> None:
        record = VectorRecord(
            id=qa_pair_id,
            knowledge_base_id=knowledge_base_id,
            source_id=qa_pair_id,
            kind=QA_PAIR,
            model=self._embedder.model,
            values=vector,
        )
        try:
            await self._vectors.upsert(owner_id, [record])
        except VectorStoreError as error:
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE, "VECTOR_STORE_UNAVAILABLE", str(error)[:500]
            ) from error

    async def _check_quota(
        self, conn: AsyncConnection, owner_id: str, limit: int, *, adding: int, freeing: int
    ) -> None:
        used = await repository.owner_usage_bytes(conn, owner_id=owner_id)
        if used - freeing + adding > limit:
            raise QuotaError(limit_bytes=limit, used_bytes=used - freeing, requested_bytes=adding)

    async def create(
        self, owner_id: str, knowledge_base_id: str, pair: qa_pair_pb2.QaPair, request_id: str
    ) -> Row[Any]:
        async with self._engine.connect() as conn:
            if request_id:
                earlier = await repository.qa_pair_by_request(
                    conn, owner_id=owner_id, request_id=request_id
                )
                if earlier is not None:
                    return earlier
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner_id, knowledge_base_id=knowledge_base_id
            ):
                raise knowledge_base_not_found()
        question, answer = pair.question.strip(), pair.answer.strip()
        norm = language.normalise_question(question) or question.lower()
        limit = await self._entitlements.max_knowledge_base_bytes(owner_id)
        vector = await self._embed(question)
        qa_pair_id = str(uuid.uuid4())
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner_id)
            if not await repository.knowledge_base_exists(
                conn, owner_id=owner_id, knowledge_base_id=knowledge_base_id, lock=True
            ):
                raise knowledge_base_not_found()
            taken = await repository.qa_pair_by_question(
                conn, knowledge_base_id=knowledge_base_id, question_norm=norm
            )
            if taken is not None:
                raise question_taken(str(taken.id))
            await self._check_quota(
                conn, owner_id, limit, adding=_size(question, answer), freeing=0
            )
            config = language.detect(f"{question} {answer}")
            row = await repository.insert_qa_pair(
                conn,
                qa_pair_id=qa_pair_id,
                owner_id=owner_id,
                knowledge_base_id=knowledge_base_id,
                question=question,
                question_norm=norm,
                answer=answer,
                language=config,
                search_question=language.search_text(question),
                search_answer=language.search_text(answer),
                embedding_model=self._embedder.model,
                request_id=request_id or None,
            )
            if row is None:
                raise question_taken("")
            await repository.touch_knowledge_base(conn, knowledge_base_id=knowledge_base_id)
            await self._store_vector(
                owner_id, qa_pair_id=qa_pair_id, knowledge_base_id=knowledge_base_id, vector=vector
            )
        return row

    async def update(
        self, owner_id: str, qa_pair_id: str, pair: qa_pair_pb2.QaPair, paths: list[str]
    ) -> Row[Any]:
        async with self._engine.connect() as conn:
            current = await repository.qa_pair(conn, owner_id=owner_id, qa_pair_id=qa_pair_id)
        if current is None:
            raise qa_pair_not_found()
        question = pair.question.strip() if "question" in paths else current.question
        answer = pair.answer.strip() if "answer" in paths else current.answer
        for path, value in (("question", question), ("answer", answer)):
            if path in paths and not value:
                raise ServiceError(
                    grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", f"{path} is required"
                )
        norm = language.normalise_question(question) or question.lower()
        reembed = question != current.question or current.embedding_model != self._embedder.model
        limit = await self._entitlements.max_knowledge_base_bytes(owner_id)
        vector = await self._embed(question) if reembed else None
        try:
            async with self._engine.begin() as conn:
                await repository.lock_owner(conn, owner_id=owner_id)
                locked = await repository.qa_pair(
                    conn, owner_id=owner_id, qa_pair_id=qa_pair_id, lock=True
                )
                if locked is None:
                    raise qa_pair_not_found()
                taken = await repository.qa_pair_by_question(
                    conn, knowledge_base_id=locked.knowledge_base_id, question_norm=norm
                )
                if taken is not None and str(taken.id) != qa_pair_id:
                    raise question_taken(str(taken.id))
                await self._check_quota(
                    conn,
                    owner_id,
                    limit,
                    adding=_size(question, answer),
                    freeing=_size(locked.question, locked.answer),
                )
                row = await repository.update_qa_pair(
                    conn,
                    qa_pair_id=qa_pair_id,
                    question=question,
                    question_norm=norm,
                    answer=answer,
                    language=language.detect(f"{question} {answer}"),
                    search_question=language.search_text(question),
                    search_answer=language.search_text(answer),
                    embedding_model=self._embedder.model
                    if vector is not None
                    else locked.embedding_model,
                )
                await repository.touch_knowledge_base(
                    conn, knowledge_base_id=locked.knowledge_base_id
                )
                if vector is not None:
                    await self._store_vector(
                        owner_id,
                        qa_pair_id=qa_pair_id,
                        knowledge_base_id=str(locked.knowledge_base_id),
                        vector=vector,
                    )
        except IntegrityError as error:
            raise question_taken("") from error
        return row

    async def delete(self, owner_id: str, qa_pair_id: str) -> None:
        async with self._engine.begin() as conn:
            row = await repository.delete_qa_pair(conn, owner_id=owner_id, qa_pair_id=qa_pair_id)
            if row is None:
                raise qa_pair_not_found()
            await repository.touch_knowledge_base(conn, knowledge_base_id=row.knowledge_base_id)
        try:
            await self._vectors.delete_sources(owner_id, [qa_pair_id])
        except VectorStoreError as error:
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE, "VECTOR_STORE_UNAVAILABLE", str(error)[:500]
            ) from error

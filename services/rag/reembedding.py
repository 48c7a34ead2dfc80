"""Model change: when the deployment's embedding model differs from the one a document or
Q&A pair was embedded with, re-embed it instead of mixing vector spaces. Documents are queued
for re-indexing (their old chunks stay searchable by full text meanwhile; vector search only
ever compares vectors of the current model); Q&A questions are re-embedded here."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.outbox import OutboxRelay, add_event
from services.rag import repository
from services.rag.embeddings.base import Embedder, EmbeddingError
from services.rag.uploads import index_command
from services.rag.vectors.base import QA_PAIR, VectorRecord, VectorStore, VectorStoreError

log = logging.getLogger("inbetwin.rag.reembedding")

BATCH = 64
RETRY_SECONDS = 30.0


class Reembedder:
    def __init__(
        self, *, engine: AsyncEngine, relay: OutboxRelay, embedder: Embedder, vectors: VectorStore
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._embedder = embedder
        self._vectors = vectors
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.reconcile()
                return
            except (EmbeddingError, VectorStoreError) as error:
                log.warning("re-embedding postponed", extra={"error": str(error)})
            except Exception:
                log.exception("re-embedding failed")
            await asyncio.sleep(RETRY_SECONDS)

    async def reconcile(self) -> None:
        model = self._embedder.model
        queued = await self._queue_documents(model)
        pairs = await self._reembed_pairs(model)
        async with self._engine.begin() as conn:
            for kb in await repository.knowledge_bases_with_model_other_than(conn, model=model):
                await repository.settle_knowledge_base_model(
                    conn, knowledge_base_id=kb.id, model=model
                )
        if queued or pairs:
            log.info("re-embedding", extra={"model": model, "documents": queued, "pairs": pairs})

    async def _queue_documents(self, model: str) -> int:
        async with self._engine.begin() as conn:
            rows = await repository.documents_to_reembed(conn, model=model)
            for row in rows:
                requeued = await repository.requeue_document(
                    conn, document_id=row.id, keep_live=True
                )
                await add_event(conn, index_command(requeued))
        if rows:
            self._relay.notify()
        return len(rows)

    async def _reembed_pairs(self, model: str) -> int:
        done = 0
        while True:
            async with self._engine.connect() as conn:
                rows = await repository.qa_pairs_with_model_other_than(
                    conn, model=model, limit=BATCH
                )
            if not rows:
                return done
            vectors = await self._embedder.embed([row.question for row in rows])
            by_owner: dict[str, list[VectorRecord]] = {}
            for row, vector in zip(rows, vectors, strict=True):
                by_owner.setdefault(str(row.owner_id), []).append(
                    VectorRecord(
                        id=str(row.id),
                        knowledge_base_id=str(row.knowledge_base_id),
                        source_id=str(row.id),
                        kind=QA_PAIR,
                        model=model,
                        values=vector,
                    )
                )
            for owner_id, records in by_owner.items():
                await self._vectors.upsert(owner_id, records)
            async with self._engine.begin() as conn:
                for row in rows:
                    # A pair whose question changed meanwhile was re-embedded by its writer.
                    await repository.set_qa_pair_model(
                        conn, qa_pair_id=row.id, question_norm=row.question_norm, model=model
                    )
            done += len(rows)

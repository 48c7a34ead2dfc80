"""The indexing worker: consumes DocumentUploaded commands and takes one document revision
from PENDING to READY or FAILED (extract, chunk, embed, store chunks and vectors).

Each command names a revision; a command for an older revision, or for a document deleted
meanwhile, changes nothing. Chunks are written with their revision and become searchable only
when the revision goes live, in the same transaction that marks the document READY and
removes the previous revision's chunks, so a re-index never leaves a gap in search.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from inbetwin.events.v1 import rag_events_pb2
from inbetwin.rag.v1 import document_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.bus import ConsumerSpec, RetryLaterError
from services.kit.events import new_event, subject_of
from services.kit.outbox import OutboxRelay, add_event
from services.rag import chunking, language, mapping, repository
from services.rag.embeddings.base import Embedder, EmbeddingError
from services.rag.extraction import ExtractionError, Limits, extract
from services.rag.settings import RagSettings
from services.rag.storage.base import ObjectMissingError, ObjectStore
from services.rag.tables import chunks, documents
from services.rag.vectors.base import CHUNK, VectorRecord, VectorStore, VectorStoreError

log = logging.getLogger("inbetwin.rag.indexing")

# A document INDEXING with progress newer than this is being worked on by another delivery.
LEASE = timedelta(seconds=120)
VECTOR_STORE_ATTEMPTS = 3
T = TypeVar("T")


class IndexingFailedError(Exception):
    """Indexing gave up: the document ends FAILED with this reason."""

    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def consumer_spec(settings: RagSettings) -> ConsumerSpec:
    return ConsumerSpec(
        durable=settings.indexer_consumer,
        subjects=(subject_of(rag_events_pb2.DocumentUploaded),),
        ack_wait_seconds=300.0,
        max_deliver=10,
        batch=8,
        concurrency=settings.indexer_concurrency,
    )


class Indexer:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        objects: ObjectStore,
        embedder: Embedder,
        vectors: VectorStore,
        settings: RagSettings,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._objects = objects
        self._embedder = embedder
        self._vectors = vectors
        self._settings = settings
        self._limits = Limits(
            max_text_chars=settings.max_text_chars,
            max_docx_unpacked_bytes=settings.max_docx_unpacked_bytes,
            max_docx_compression_ratio=settings.max_docx_compression_ratio,
        )

    async def handle(self, event: rag_events_pb2.DocumentUploaded) -> None:
        row = await self._claim(event)
        if row is None:
            return
        written: list[str] = []
        try:
            pieces = await self._chunk(row)
            await self._set_progress(row, done=0, total=len(pieces))
            for start in range(0, len(pieces), self._settings.embeddings_batch_size):
                batch = pieces[start : start + self._settings.embeddings_batch_size]
                ids = await self._index_batch(row, batch, done=start + len(batch), written=written)
                if ids is None:
                    await self._abandon(row, written)
                    return
            await self._finish_ready(row, len(pieces), written)
        except IndexingFailedError as failure:
            await self._finish_failed(row, failure.reason, failure.message)

    # ---- steps -------------------------------------------------------------------------

    async def _claim(self, event: rag_events_pb2.DocumentUploaded) -> Row[Any] | None:
        """Mark the revision INDEXING; None when there is nothing (more) to do."""
        async with self._engine.begin() as conn:
            row = await repository.document(
                conn, owner_id=event.owner_id, document_id=event.document_id, lock=True
            )
            if row is None or row.revision != event.revision:
                return None
            if row.status not in (repository.PENDING, repository.INDEXING):
                return None
            if row.status == repository.INDEXING:
                fresh = await conn.scalar(
                    sa.select(documents.c.updated_at > sa.func.now() - LEASE).where(
                        documents.c.id == row.id
                    )
                )
                if fresh:
                    raise RetryLaterError(LEASE.total_seconds(), "indexing under way")
            leftovers = await repository.delete_chunks(
                conn, document_id=row.id, except_revision=row.live_revision
            )
            claimed = (
                await conn.execute(
                    sa.update(documents)
                    .where(documents.c.id == row.id)
                    .values(
                        status=repository.INDEXING,
                        chunks_done=0,
                        chunks_total=0,
                        updated_at=sa.func.now(),
                    )
                    .returning(*documents.c)
                )
            ).one()
        if leftovers:  # a crashed earlier attempt at this revision
            await self._vector_call(lambda: self._vectors.delete_ids(row.owner_id, leftovers))
        return claimed

    async def _chunk(self, row: Row[Any]) -> list[chunking.Chunk]:
        try:
            data = await self._objects.get(row.storage_key)
        except ObjectMissingError as error:
            raise IndexingFailedError(
                document_pb2.DOCUMENT_FAILURE_REASON_INTERNAL, "the stored original is missing"
            ) from error
        try:
            extracted = await asyncio.to_thread(extract, data, row.content_type, self._limits)
        except ExtractionError as error:
            raise IndexingFailedError(error.reason, error.message) from error
        except Exception as error:
            log.exception("extraction crashed", extra={"document": str(row.id)})
            raise IndexingFailedError(
                document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT,
                f"the file could not be read: {type(error).__name__}",
            ) from error
        pieces = chunking.split(
            extracted,
            size=self._settings.chunk_chars,
            overlap=self._settings.chunk_overlap_chars,
        )
        if not pieces:
            raise IndexingFailedError(
                document_pb2.DOCUMENT_FAILURE_REASON_NO_TEXT, "no text to index"
            )
        limit = self._settings.max_chunks_per_document
        if len(pieces) > limit:
            raise IndexingFailedError(
                document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE,
                f"the text makes {len(pieces)} chunks, more than {limit}",
            )
        return pieces

    async def _index_batch(
        self, row: Row[Any], batch: Sequence[chunking.Chunk], *, done: int, written: list[str]
    ) -> list[str] | None:
        """Embed and store one batch; None when the revision is no longer current."""
        try:
            vectors = await self._embedder.embed([piece.embedding_input() for piece in batch])
        except EmbeddingError as error:
            raise IndexingFailedError(
                document_pb2.DOCUMENT_FAILURE_REASON_EMBEDDING_FAILED, str(error)
            ) from error
        ids = [str(uuid.uuid4()) for _ in batch]
        async with self._engine.begin() as conn:
            if not await _still_current(conn, row):
                return None
            await conn.execute(
                sa.insert(chunks).values(
                    [
                        _chunk_values(row, piece, chunk_id)
                        for piece, chunk_id in zip(batch, ids, strict=True)
                    ]
                )
            )
            await conn.execute(
                sa.update(documents)
                .where(documents.c.id == row.id)
                .values(chunks_done=done, updated_at=sa.func.now())
            )
        written.extend(ids)
        records = [
            VectorRecord(
                id=chunk_id,
                knowledge_base_id=str(row.knowledge_base_id),
                source_id=str(row.id),
                kind=CHUNK,
                model=self._embedder.model,
                values=vector,
            )
            for chunk_id, vector in zip(ids, vectors, strict=True)
        ]
        await self._vector_call(lambda: self._vectors.upsert(row.owner_id, records))
        return ids

    async def _set_progress(self, row: Row[Any], *, done: int, total: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(documents)
                .where(documents.c.id == row.id, documents.c.revision == row.revision)
                .values(chunks_done=done, chunks_total=total, updated_at=sa.func.now())
            )

    async def _finish_ready(self, row: Row[Any], count: int, written: list[str]) -> None:
        async with self._engine.begin() as conn:
            if not await _still_current(conn, row, lock=True):
                stale: list[str] | None = None
            else:
                stale = await repository.delete_chunks(
                    conn, document_id=row.id, except_revision=row.revision
                )
                final = (
                    await conn.execute(
                        sa.update(documents)
                        .where(documents.c.id == row.id)
                        .values(
                            status=repository.READY,
                            live_revision=row.revision,
                            chunk_count=count,
                            chunks_done=count,
                            chunks_total=count,
                            embedding_model=self._embedder.model,
                            index_time=sa.func.now(),
                            updated_at=sa.func.now(),
                        )
                        .returning(*documents.c)
                    )
                ).one()
                await self._announce(conn, final)
        if stale is None:
            await self._abandon(row, written)
            return
        self._relay.notify()
        await self._discard_vectors(row, stale)

    async def _finish_failed(self, row: Row[Any], reason: int, message: str) -> None:
        async with self._engine.begin() as conn:
            if not await _still_current(conn, row, lock=True):
                return
            removed = await repository.delete_chunks(conn, document_id=row.id)
            final = (
                await conn.execute(
                    sa.update(documents)
                    .where(documents.c.id == row.id)
                    .values(
                        status=repository.FAILED,
                        failure_reason=reason,
                        failure_message=message[:500],
                        live_revision=None,
                        chunk_count=0,
                        updated_at=sa.func.now(),
                    )
                    .returning(*documents.c)
                )
            ).one()
            await self._announce(conn, final)
        self._relay.notify()
        log.info(
            "document failed",
            extra={"document": str(row.id), "reason": reason, "detail": message[:200]},
        )
        await self._discard_vectors(row, removed)

    async def _announce(self, conn: AsyncConnection, final: Row[Any]) -> None:
        await repository.touch_knowledge_base(conn, knowledge_base_id=final.knowledge_base_id)
        await repository.settle_knowledge_base_model(
            conn, knowledge_base_id=final.knowledge_base_id, model=self._embedder.model
        )
        await add_event(
            conn,
            new_event(
                rag_events_pb2.DocumentIndexed,
                owner_id=str(final.owner_id),
                document=mapping.document(final),
            ),
        )

    async def _abandon(self, row: Row[Any], written: list[str]) -> None:
        """The revision was replaced or the document deleted: drop what this run stored."""
        await self._discard_vectors(row, written)

    async def _discard_vectors(self, row: Row[Any], ids: list[str]) -> None:
        """Best effort: a vector whose chunk row is gone is never returned by search (hits are
        joined with the live chunks), so a failure here leaves garbage, not a wrong answer."""
        if not ids:
            return
        try:
            await self._vector_call(lambda: self._vectors.delete_ids(row.owner_id, ids))
        except IndexingFailedError:
            log.warning("could not delete vectors", extra={"document": str(row.id)})

    async def _vector_call(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(VECTOR_STORE_ATTEMPTS):
            try:
                return await call()
            except VectorStoreError as error:
                if attempt == VECTOR_STORE_ATTEMPTS - 1:
                    raise IndexingFailedError(
                        document_pb2.DOCUMENT_FAILURE_REASON_INTERNAL,
                        f"the vector store is unavailable: {error}",
                    ) from error
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")


async def _still_current(conn: AsyncConnection, row: Row[Any], *, lock: bool = False) -> bool:
    statement = sa.select(documents.c.id).where(
        documents.c.id == row.id, documents.c.revision == row.revision
    )
    statement = statement.with_for_update() if lock else statement.with_for_update(read=True)
    return (await conn.execute(statement)).first() is not None


def _chunk_values(row: Row[Any], piece: chunking.Chunk, chunk_id: str) -> dict[str, Any]:
    config = language.detect(piece.embedding_input())
    return {
        "id": chunk_id,
        "owner_id": row.owner_id,
        "knowledge_base_id": row.knowledge_base_id,
        "document_id": row.id,
        "revision": row.revision,
        "chunk_index": piece.index,
        "text": piece.text,
        "heading": piece.heading,
        "char_start": piece.start,
        "char_end": piece.end,
        "page_number": piece.page_number,
        "language": config,
        "tsv": repository.tsvector(
            config, language.search_text(piece.heading), language.search_text(piece.text)
        ),
    }

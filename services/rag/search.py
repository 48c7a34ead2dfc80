"""Search: exact Q&A matches first, then vector and full-text candidates fused by RRF, each
hit hydrated from the owner's live chunks or Q&A pairs with its citation."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from inbetwin.rag.v1 import rag_service_pb2 as pb
from inbetwin.rag.v1 import search_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from services.rag import language, repository, retrieval
from services.rag.embeddings.base import Embedder, EmbeddingError
from services.rag.embeddings.languages import LanguageCoverage
from services.rag.errors import embedding_unavailable, knowledge_base_not_found
from services.rag.fusion import reciprocal_rank_fusion
from services.rag.term_stats import TermStatistics
from services.rag.vectors.base import CHUNK, QA_PAIR, VectorMatch, VectorStore, VectorStoreError

log = logging.getLogger("inbetwin.rag.search")

DEFAULT_TOP_K = 5
HYBRID = search_pb2.SEARCH_MODE_HYBRID
VECTOR = search_pb2.SEARCH_MODE_VECTOR
FULL_TEXT = search_pb2.SEARCH_MODE_FULL_TEXT


class QueryEmbeddings:
    """Embeds queries, remembering the most recent ones (agents repeat questions)."""

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        self._embedder = embedder
        self._size = size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def model(self) -> str:
        return self._embedder.model

    @property
    def coverage(self) -> LanguageCoverage:
        return self._embedder.coverage

    async def embed(self, query: str) -> list[float]:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        (vector,) = await self._embedder.embed([query])
        self._cache[query] = vector
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return vector


class Searcher:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        queries: QueryEmbeddings,
        vectors: VectorStore,
        near_exact: float,
        uncovered_vector_weight: float = 0.0,
        full_text_budget: int = 150,
    ) -> None:
        self._engine = engine
        self._queries = queries
        self._vectors = vectors
        self._near_exact = near_exact
        self._uncovered_vector_weight = uncovered_vector_weight
        self._full_text_budget = full_text_budget
        self._term_statistics = TermStatistics()

    async def search(self, owner_id: str, request: pb.SearchRequest) -> pb.SearchResponse:
        top_k = request.top_k or DEFAULT_TOP_K
        mode = request.mode or HYBRID
        query_language = language.detect(request.query)
        covered = self._queries.coverage.covers(query_language)
        vector_weight = 1.0 if covered else self._uncovered_vector_weight
        if mode == HYBRID and vector_weight == 0:
            mode = FULL_TEXT
        pool = max(4 * top_k, 40)
        async with self._engine.connect() as conn:
            kb_ids, foreign = await repository.searchable_knowledge_base_ids(
                conn,
                owner_id=owner_id,
                requested=list(request.knowledge_base_ids),
                agent_id=request.agent_id,
            )
        if foreign:
            raise knowledge_base_not_found()
        if not kb_ids:
            return pb.SearchResponse(effective_mode=mode)

        # The two legs run side by side: the embedding and the vector store on one connection
        # (or thread), full-text search on another.
        vector_leg = (
            asyncio.create_task(self._nearest(owner_id, request.query, kb_ids, pool))
            if mode in (HYBRID, VECTOR)
            else None
        )
        norm = language.normalise_question(request.query)
        async with self._engine.connect() as conn:
            lexical: list[retrieval.Ranked] = []
            matches: list[VectorMatch] = []
            try:
                if mode in (HYBRID, FULL_TEXT):
                    lexical = await retrieval.full_text(
                        conn,
                        statistics=self._term_statistics,
                        owner_id=owner_id,
                        knowledge_base_ids=kb_ids,
                        config=query_language,
                        text=language.query_terms(request.query),
                        limit=pool,
                        budget=self._full_text_budget,
                    )
                if vector_leg is not None:
                    matches = await vector_leg
            except (EmbeddingError, VectorStoreError) as error:
                if mode == VECTOR:
                    raise embedding_unavailable(str(error)) from error
                log.warning(
                    "vector search unavailable, full-text only", extra={"error": str(error)}
                )
                mode = FULL_TEXT
            finally:
                if vector_leg is not None and not vector_leg.done():
                    vector_leg.cancel()
                    vector_leg.add_done_callback(_retrieve_outcome)
            candidates = _candidates(mode, matches, lexical, vector_weight)
            chunk_rows = await retrieval.live_chunks(
                conn,
                owner_id=owner_id,
                knowledge_base_ids=kb_ids,
                ids=[key for kind, key in candidates if kind == CHUNK],
            )
            pair_rows = await retrieval.qa_pairs(
                conn,
                owner_id=owner_id,
                knowledge_base_ids=kb_ids,
                ids=[key for kind, key in candidates if kind == QA_PAIR],
                question_norm=norm,
            )

        # Similarity means nothing for a language the model does not cover.
        similar = {
            m.id
            for m in matches
            if covered and m.kind == QA_PAIR and m.similarity >= self._near_exact
        }
        exact = [
            row for row in pair_rows.values() if row.question_norm == norm or str(row.id) in similar
        ]
        hits = [_qa_hit(row, 1.0, exact_match=True) for row in exact]
        taken = {str(row.id) for row in exact}
        for (kind, key), score in candidates.items():
            if len(hits) >= top_k:
                break
            if score < request.min_score or key in taken:
                continue
            if kind == CHUNK and key in chunk_rows:
                hits.append(_chunk_hit(chunk_rows[key], score))
            elif kind == QA_PAIR and key in pair_rows:
                hits.append(_qa_hit(pair_rows[key], score, exact_match=False))
        return pb.SearchResponse(hits=hits[:top_k], effective_mode=mode)

    async def _nearest(
        self, owner_id: str, query: str, knowledge_base_ids: list[str], pool: int
    ) -> list[VectorMatch]:
        vector = await self._queries.embed(query)
        return await self._vectors.query(
            owner_id,
            vector,
            model=self._queries.model,
            knowledge_base_ids=knowledge_base_ids,
            top_k=pool,
        )


def _retrieve_outcome(task: asyncio.Task[list[VectorMatch]]) -> None:
    """Marks an abandoned leg's error as seen (asyncio would log it as never retrieved)."""
    if not task.cancelled():
        task.exception()


def _candidates(
    mode: int,
    matches: Sequence[VectorMatch],
    lexical: Sequence[retrieval.Ranked],
    vector_weight: float,
) -> dict[tuple[str, str], float]:
    """(kind, id) → score in 0..1, best first."""
    if mode == VECTOR:
        return {(m.kind, m.id): min(1.0, max(0.0, m.similarity)) for m in matches}
    if mode == FULL_TEXT:
        return {(r.kind, r.id): r.score for r in lexical}
    fused = reciprocal_rank_fusion(
        [[(m.kind, m.id) for m in matches], [(r.kind, r.id) for r in lexical]],
        weights=(vector_weight, 1.0),
    )
    return dict(fused)


def _chunk_hit(row: Row[Any], score: float) -> search_pb2.SearchHit:
    return search_pb2.SearchHit(
        score=score,
        text=row.text,
        knowledge_base_id=str(row.knowledge_base_id),
        citation=search_pb2.Citation(
            document_id=str(row.document_id),
            file_name=row.file_name,
            chunk_id=str(row.id),
            chunk_index=row.chunk_index,
            char_start=row.char_start,
            char_end=row.char_end,
            page_number=row.page_number,
            heading=row.heading,
        ),
    )


def _qa_hit(row: Row[Any], score: float, *, exact_match: bool) -> search_pb2.SearchHit:
    return search_pb2.SearchHit(
        score=score,
        text=row.answer,
        knowledge_base_id=str(row.knowledge_base_id),
        qa_pair=search_pb2.QaPairMatch(
            qa_pair_id=str(row.id), question=row.question, exact_match=exact_match
        ),
    )

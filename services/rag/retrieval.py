"""The SQL side of search: full-text candidates, and hydrating hits from the live chunks and
the Q&A pairs, always filtered by owner and knowledge base.

Full-text search is two-stage so that its cost does not grow with the corpus: the GIN index
selects at most `cap` live chunks matching a selective form of the query (`term_stats`), and
only those are ranked (ts_rank_cd) against every word of the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.rag.term_stats import (
    CAP_FACTOR,
    TermStatistics,
    tsquery_lexeme,
    widening_queries,
)


@dataclass(frozen=True, slots=True)
class Ranked:
    kind: str
    id: str
    score: float


# The query's lexemes as the index holds them (stemmed, stop words gone), and how many live
# chunks the searched knowledge bases hold.
_LEXEMES = sa.text(
    """
    SELECT tsvector_to_array(to_tsvector(CAST(:config AS regconfig), :text)) AS lexemes,
           (SELECT coalesce(sum(chunk_count), 0) FROM documents
             WHERE owner_id = :owner AND knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
               AND live_revision IS NOT NULL) AS chunks
    """
)

# Candidates first (MATERIALIZED: the cap applies before any ranking), then ranking.
# Normalisation 32 scales ts_rank_cd to rank/(rank+1), in 0..1. Q&A pairs are few per owner
# (plan limits), so all of their matches are candidates, under the same cap.
_FULL_TEXT = sa.text(
    """
    WITH q AS (SELECT CAST(:query AS tsquery) AS query, CAST(:selective AS tsquery) AS selective),
    candidates AS MATERIALIZED (
      SELECT c.id, c.tsv
        FROM chunks c
        JOIN documents d ON d.id = c.document_id AND d.live_revision = c.revision, q
       WHERE c.owner_id = :owner AND c.knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
         AND c.tsv @@ q.selective
       LIMIT :cap),
    pair_candidates AS MATERIALIZED (
      SELECT p.id, p.tsv
        FROM qa_pairs p, q
       WHERE p.owner_id = :owner AND p.knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
         AND p.tsv @@ q.query
       LIMIT :cap)
    (SELECT 'chunk' AS kind, c.id, ts_rank_cd(c.tsv, q.query, 32) AS score
       FROM candidates c, q
      ORDER BY score DESC, c.id LIMIT :n)
    UNION ALL
    (SELECT 'qa' AS kind, p.id, ts_rank_cd(p.tsv, q.query, 32) AS score
       FROM pair_candidates p, q
      ORDER BY score DESC, p.id LIMIT :n)
    """
)

_CHUNKS = sa.text(
    """
    SELECT c.id, c.knowledge_base_id, c.document_id, d.file_name, c.chunk_index, c.text,
           c.heading, c.char_start, c.char_end, c.page_number
      FROM chunks c
      JOIN documents d ON d.id = c.document_id AND d.live_revision = c.revision
     WHERE c.owner_id = :owner AND c.knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
       AND c.id = ANY(CAST(:ids AS uuid[]))
    """
)

_QA_PAIRS = sa.text(
    """
    SELECT id, knowledge_base_id, question, answer, question_norm
      FROM qa_pairs
     WHERE owner_id = :owner AND knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
       AND (id = ANY(CAST(:ids AS uuid[])) OR question_norm = :norm)
    """
)


async def full_text(
    conn: AsyncConnection,
    *,
    statistics: TermStatistics,
    owner_id: str,
    knowledge_base_ids: Sequence[str],
    config: str,
    text: str,
    limit: int,
    budget: int,
) -> list[Ranked]:
    """The best `limit` chunks and Q&A pairs sharing words with `text`, best first.

    About `budget` chunks are ranked (never more than twice that, or `limit`), chosen by
    `term_stats`. While a selection finds fewer than `limit` chunks, a wider one fills the rest:
    its rows follow the narrower one's, which hold the question's rarer words, because when
    the wider one is capped its rows are an arbitrary part of its matches.
    """
    if not text or not knowledge_base_ids:
        return []
    scope = {"owner": owner_id, "kbs": list(knowledge_base_ids)}
    found = (await conn.execute(_LEXEMES, {"config": config, "text": text, **scope})).one()
    lexemes: list[str] = list(found.lexemes or [])
    if not lexemes:
        return []
    tiers = widening_queries(
        lexemes, await statistics.shares(conn), rows=float(found.chunks), budget=budget
    )
    query = " | ".join(tsquery_lexeme(lexeme) for lexeme in lexemes)
    ranked: dict[tuple[str, str], Ranked] = {}
    for selective in tiers:
        rows = await conn.execute(
            _FULL_TEXT,
            {
                "query": query,
                "selective": selective,
                "cap": max(CAP_FACTOR * budget, limit),
                "n": limit,
                **scope,
            },
        )
        tier = sorted(
            (Ranked(row.kind, str(row.id), float(row.score)) for row in rows),
            key=lambda item: -item.score,
        )
        for item in tier:
            ranked.setdefault((item.kind, item.id), item)
        if sum(kind == "chunk" for kind, _ in ranked) >= limit:
            break
    return list(ranked.values())[:limit]


async def live_chunks(
    conn: AsyncConnection, *, owner_id: str, knowledge_base_ids: Sequence[str], ids: Sequence[str]
) -> dict[str, Row[Any]]:
    if not ids:
        return {}
    rows = await conn.execute(
        _CHUNKS, {"owner": owner_id, "kbs": list(knowledge_base_ids), "ids": list(ids)}
    )
    return {str(row.id): row for row in rows}


async def qa_pairs(
    conn: AsyncConnection,
    *,
    owner_id: str,
    knowledge_base_ids: Sequence[str],
    ids: Sequence[str],
    question_norm: str,
) -> dict[str, Row[Any]]:
    """The listed pairs, plus any whose question normalises to `question_norm`."""
    rows = await conn.execute(
        _QA_PAIRS,
        {
            "owner": owner_id,
            "kbs": list(knowledge_base_ids),
            "ids": list(ids),
            "norm": question_norm,
        },
    )
    return {str(row.id): row for row in rows}

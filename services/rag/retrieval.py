"""The SQL side of search: full-text candidates, and hydrating hits from the live chunks and
the Q&A pairs, always filtered by owner and knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class Ranked:
    kind: str
    id: str
    score: float


# Normalisation 32 scales ts_rank_cd to rank/(rank+1), in 0..1.
_FULL_TEXT = sa.text(
    """
    WITH q AS (SELECT to_tsquery(CAST(:config AS regconfig), :terms) AS query)
    (SELECT 'chunk' AS kind, c.id, ts_rank_cd(c.tsv, q.query, 32) AS score
       FROM chunks c
       JOIN documents d ON d.id = c.document_id AND d.live_revision = c.revision, q
      WHERE c.owner_id = :owner AND c.knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
        AND c.tsv @@ q.query
      ORDER BY score DESC, c.id LIMIT :n)
    UNION ALL
    (SELECT 'qa' AS kind, p.id, ts_rank_cd(p.tsv, q.query, 32) AS score
       FROM qa_pairs p, q
      WHERE p.owner_id = :owner AND p.knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
        AND p.tsv @@ q.query
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
    owner_id: str,
    knowledge_base_ids: Sequence[str],
    config: str,
    terms: str,
    limit: int,
) -> list[Ranked]:
    if not terms or not knowledge_base_ids:
        return []
    rows = await conn.execute(
        _FULL_TEXT,
        {
            "config": config,
            "terms": terms,
            "owner": owner_id,
            "kbs": list(knowledge_base_ids),
            "n": limit,
        },
    )
    ranked = [Ranked(row.kind, str(row.id), float(row.score)) for row in rows]
    ranked.sort(key=lambda item: -item.score)
    return ranked[:limit]


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

"""Full-text search over a knowledge base too large to rank whole: the GIN index narrows the
rows by the question's rarer words (estimated from Postgres's ANALYZE statistics), at most
twice the budget are ranked, and the query widens when the narrow form finds too little."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit.db import create_engine
from services.rag import retrieval
from services.rag.term_stats import TermStatistics, widening_queries
from services.stack import Stack
from tests.rag.conftest import new_database

CHUNKS = 4000
RARE = 6
BUDGET = 50


@pytest.fixture(scope="module")
async def corpus(platform: Stack) -> dict[str, str]:
    """One owner's knowledge base: 4,000 live chunks that all say "harbour", a few of which
    also say "zeppelin"; analysed, as autovacuum would."""
    url = await new_database(platform, "fulltext")
    owner, kb, document = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    connection = await asyncpg.connect(platform.postgres_dsn(url.rsplit("/", 1)[1]))
    try:
        await connection.execute(
            "INSERT INTO knowledge_bases (id, owner_id, display_name, embedding_model) "
            "VALUES ($1, $2, 'big', 'm')",
            kb,
            owner,
        )
        await connection.execute(
            "INSERT INTO documents (id, owner_id, knowledge_base_id, file_name, content_type, "
            "size_bytes, sha256, storage_key, status, revision, live_revision, uploaded_at, "
            "chunk_count) VALUES ($1, $2, $3, 'big.txt', 'text/plain', 0, '', '', 3, 1, 1, "
            "now(), $4)",
            document,
            owner,
            kb,
            CHUNKS,
        )
        rows = []
        for index in range(CHUNKS):
            text = f"The harbour office opens at {index % 24} o'clock, desk {index}."
            if index % (CHUNKS // RARE) == 0:
                text += " The zeppelin lands on the roof."
            rows.append((str(uuid.uuid4()), owner, kb, document, index, text))
        await connection.executemany(
            "INSERT INTO chunks (id, owner_id, knowledge_base_id, document_id, revision, "
            "chunk_index, text, char_start, char_end, language, tsv) "
            "VALUES ($1, $2, $3, $4, 1, $5, $6, 0, length($6), 'english', "
            "to_tsvector('english', $6))",
            rows,
        )
        await connection.execute("ANALYZE chunks")
    finally:
        await connection.close()
    return {"url": url, "owner": owner, "kb": kb}


async def test_rare_words_select_the_rows_and_common_ones_only_rank_them(
    corpus: dict[str, str],
) -> None:
    engine = create_engine(corpus["url"])
    statistics = TermStatistics()
    try:
        async with engine.connect() as conn:
            shares = await statistics.shares(conn)
            assert shares.of("harbour") == pytest.approx(1.0)
            tiers = widening_queries(["harbour", "zeppelin"], shares, rows=CHUNKS, budget=BUDGET)
            assert tiers[0] == "('zeppelin' & 'harbour') | 'zeppelin'"

            ranked = await retrieval.full_text(
                conn,
                statistics=statistics,
                owner_id=corpus["owner"],
                knowledge_base_ids=[corpus["kb"]],
                config="english",
                text="harbour | zeppelin",
                limit=RARE,
                budget=BUDGET,
            )
            assert len(ranked) == RARE
            texts = await chunk_texts(conn, [item.id for item in ranked])
            assert all("zeppelin" in text for text in texts)

            plan = await explain(conn, corpus, query="'harbour' | 'zeppelin'", selective=tiers[0])
            assert candidates_ranked(plan) <= 2 * BUDGET

            # A word no chunk holds is estimated as rare; the query widens to the common one,
            # and the cap still bounds what is ranked.
            ranked = await retrieval.full_text(
                conn,
                statistics=statistics,
                owner_id=corpus["owner"],
                knowledge_base_ids=[corpus["kb"]],
                config="english",
                text="harbour | quokka",
                limit=10,
                budget=BUDGET,
            )
            assert len(ranked) == 10
            plan = await explain(conn, corpus, query="'harbour' | 'quokka'", selective="'harbour'")
            assert candidates_ranked(plan) == 2 * BUDGET

            # Another owner, or another knowledge base, finds nothing.
            for owner, kb in (
                (str(uuid.uuid4()), corpus["kb"]),
                (corpus["owner"], str(uuid.uuid4())),
            ):
                assert not await retrieval.full_text(
                    conn,
                    statistics=statistics,
                    owner_id=owner,
                    knowledge_base_ids=[kb],
                    config="english",
                    text="harbour | zeppelin",
                    limit=10,
                    budget=BUDGET,
                )
    finally:
        await engine.dispose()


async def chunk_texts(conn: AsyncConnection, ids: list[str]) -> list[str]:
    rows = await conn.execute(
        sa.text("SELECT text FROM chunks WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids}
    )
    return [row.text for row in rows]


async def explain(
    conn: AsyncConnection, corpus: dict[str, str], *, query: str, selective: str
) -> object:
    statement = sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + str(retrieval._FULL_TEXT.text))
    result = await conn.execute(
        statement,
        {
            "query": query,
            "selective": selective,
            "cap": 2 * BUDGET,
            "n": 10,
            "owner": corpus["owner"],
            "kbs": [corpus["kb"]],
        },
    )
    return result.scalar_one()


def candidates_ranked(plan: object) -> int:
    """Rows the `candidates` CTE produced (those that were ranked)."""
    found: list[int] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("Subplan Name") == "CTE candidates":
                found.append(int(node["Actual Rows"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    assert len(found) == 1, plan
    return found[0]

"""pgvector in rag's own Postgres: one `embeddings` table, a partial HNSW index per dimension
(cosine), owner and knowledge-base filters with iterative index scans so a selective filter
still finds `top_k` rows."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.rag.vectors.base import VectorMatch, VectorRecord, VectorStoreError

_BATCH = 500


def vector_literal(values: Sequence[float]) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in values) + "]"


def nearest_statement(dims: int) -> sa.TextClause:
    """The `:k` nearest of `:owner`'s vectors of `:model` in `:kbs` to `:q` (a literal).

    The same expression as the partial index, so the planner can use it; the outer ORDER BY
    restores exact order after a relaxed iterative scan.
    """
    return sa.text(
        f"""
        SELECT id, kind, source_id, distance FROM (
            SELECT id, kind, source_id,
                   embedding::vector({dims}) <=> CAST(CAST(:q AS text) AS vector({dims}))
                       AS distance
            FROM embeddings
            WHERE dims = {dims} AND owner_id = :owner AND model = :model
              AND knowledge_base_id = ANY(CAST(:kbs AS uuid[]))
            ORDER BY distance
            LIMIT :k
        ) nearest ORDER BY distance
        """  # noqa: S608 - `dims` is an int
    )


class PgVectorStore:
    def __init__(self, engine: AsyncEngine, *, ef_search: int) -> None:
        self._engine = engine
        self._indexed: set[int] = set()

        @event.listens_for(engine.sync_engine, "connect")
        def _configure(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute(f"SET hnsw.ef_search = {int(ef_search)}")
            cursor.execute("SET hnsw.iterative_scan = relaxed_order")
            cursor.close()

    async def _ensure_index(self, dims: int) -> None:
        if dims in self._indexed:
            return
        async with self._engine.begin() as conn:
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('rag-hnsw'))"))
            await conn.execute(
                sa.text(
                    f"CREATE INDEX IF NOT EXISTS embeddings_hnsw_{dims} ON embeddings "
                    f"USING hnsw ((embedding::vector({dims})) vector_cosine_ops) "
                    f"WHERE dims = {dims}"
                )
            )
        self._indexed.add(dims)

    async def upsert(self, owner_id: str, records: Sequence[VectorRecord]) -> None:
        if not records:
            return
        try:
            for dims in {len(record.values) for record in records}:
                await self._ensure_index(dims)
            statement = sa.text(
                "INSERT INTO embeddings "
                "(id, owner_id, knowledge_base_id, source_id, kind, model, dims, embedding) "
                "VALUES (:id, :owner_id, :kb, :source_id, :kind, :model, :dims, "
                "CAST(CAST(:embedding AS text) AS vector)) "
                "ON CONFLICT (id) DO UPDATE SET model = EXCLUDED.model, dims = EXCLUDED.dims, "
                "embedding = EXCLUDED.embedding"
            )
            async with self._engine.begin() as conn:
                for start in range(0, len(records), _BATCH):
                    await conn.execute(
                        statement,
                        [
                            {
                                "id": record.id,
                                "owner_id": owner_id,
                                "kb": record.knowledge_base_id,
                                "source_id": record.source_id,
                                "kind": record.kind,
                                "model": record.model,
                                "dims": len(record.values),
                                "embedding": vector_literal(record.values),
                            }
                            for record in records[start : start + _BATCH]
                        ],
                    )
        except SQLAlchemyError as error:
            raise VectorStoreError(f"pgvector upsert failed: {error}") from error

    async def query(
        self,
        owner_id: str,
        vector: Sequence[float],
        *,
        model: str,
        knowledge_base_ids: Sequence[str],
        top_k: int,
    ) -> list[VectorMatch]:
        if not knowledge_base_ids or top_k <= 0:
            return []
        statement = nearest_statement(len(vector))
        try:
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        statement,
                        {
                            "q": vector_literal(vector),
                            "owner": owner_id,
                            "model": model,
                            "kbs": list(knowledge_base_ids),
                            "k": top_k,
                        },
                    )
                ).all()
        except SQLAlchemyError as error:
            raise VectorStoreError(f"pgvector query failed: {error}") from error
        return [
            VectorMatch(str(row.id), row.kind, str(row.source_id), 1.0 - float(row.distance))
            for row in rows
        ]

    async def _delete(self, where: str, params: dict[str, object]) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    sa.text(f"DELETE FROM embeddings WHERE {where}"),  # noqa: S608 - fixed clauses
                    params,
                )
        except SQLAlchemyError as error:
            raise VectorStoreError(f"pgvector delete failed: {error}") from error

    async def delete_ids(self, owner_id: str, ids: Sequence[str]) -> None:
        if ids:
            await self._delete(
                "owner_id = :owner AND id = ANY(CAST(:ids AS uuid[]))",
                {"owner": owner_id, "ids": list(ids)},
            )

    async def delete_sources(self, owner_id: str, source_ids: Sequence[str]) -> None:
        if source_ids:
            await self._delete(
                "owner_id = :owner AND source_id = ANY(CAST(:ids AS uuid[]))",
                {"owner": owner_id, "ids": list(source_ids)},
            )

    async def delete_knowledge_base(self, owner_id: str, knowledge_base_id: str) -> None:
        await self._delete(
            "owner_id = :owner AND knowledge_base_id = :kb",
            {"owner": owner_id, "kb": knowledge_base_id},
        )

    async def close(self) -> None:
        await self._engine.dispose()

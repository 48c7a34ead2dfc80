"""Pinecone through its official SDK's async data-plane client: one namespace per owner,
the knowledge base, source, kind and model as metadata filtered on at query time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinecone import AsyncIndex, PineconeError

from services.rag.vectors.base import VectorMatch, VectorRecord, VectorStoreError

UPSERT_BATCH = 100
DELETE_BATCH = 1000
MAX_TOP_K = 10_000


class PineconeStore:
    def __init__(self, *, api_key: str, host: str, timeout: float = 20.0) -> None:
        self._index = AsyncIndex(host=host, api_key=api_key, timeout=timeout)

    async def upsert(self, owner_id: str, records: Sequence[VectorRecord]) -> None:
        vectors = [
            {
                "id": record.id,
                "values": list(record.values),
                "metadata": {
                    "knowledge_base_id": record.knowledge_base_id,
                    "source_id": record.source_id,
                    "kind": record.kind,
                    "model": record.model,
                },
            }
            for record in records
        ]
        try:
            for start in range(0, len(vectors), UPSERT_BATCH):
                await self._index.upsert(
                    vectors=vectors[start : start + UPSERT_BATCH], namespace=owner_id
                )
        except PineconeError as error:
            raise VectorStoreError(f"Pinecone upsert failed: {error}") from error

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
        query_filter: dict[str, Any] = {
            "$and": [
                {"model": {"$eq": model}},
                {"knowledge_base_id": {"$in": list(knowledge_base_ids)}},
            ]
        }
        try:
            response = await self._index.query(
                top_k=min(top_k, MAX_TOP_K),
                vector=list(vector),
                namespace=owner_id,
                filter=query_filter,
                include_metadata=True,
            )
        except PineconeError as error:
            raise VectorStoreError(f"Pinecone query failed: {error}") from error
        matches = []
        for match in response.matches:
            metadata = match.metadata or {}
            matches.append(
                VectorMatch(
                    match.id,
                    str(metadata.get("kind", "")),
                    str(metadata.get("source_id", "")),
                    float(match.score),
                )
            )
        return matches

    async def _delete(self, owner_id: str, **selector: Any) -> None:
        try:
            await self._index.delete(namespace=owner_id, **selector)
        except PineconeError as error:
            raise VectorStoreError(f"Pinecone delete failed: {error}") from error

    async def delete_ids(self, owner_id: str, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), DELETE_BATCH):
            await self._delete(owner_id, ids=list(ids[start : start + DELETE_BATCH]))

    async def delete_sources(self, owner_id: str, source_ids: Sequence[str]) -> None:
        if source_ids:
            await self._delete(owner_id, filter={"source_id": {"$in": list(source_ids)}})

    async def delete_knowledge_base(self, owner_id: str, knowledge_base_id: str) -> None:
        await self._delete(owner_id, filter={"knowledge_base_id": {"$eq": knowledge_base_id}})

    async def close(self) -> None:
        await self._index.close()

"""The vector-store interface. Every call names the owner: a store keeps each owner's vectors
apart (a filter in pgvector, a namespace in Pinecone) and never answers across owners."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

CHUNK = "chunk"
QA_PAIR = "qa"


class VectorStoreError(Exception):
    """The store failed or is unreachable."""


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """One vector: a chunk's (source = its document) or a Q&A question's (source = the pair)."""

    id: str
    knowledge_base_id: str
    source_id: str
    kind: str
    model: str
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class VectorMatch:
    id: str
    kind: str
    source_id: str
    similarity: float


class VectorStore(Protocol):
    async def upsert(self, owner_id: str, records: Sequence[VectorRecord]) -> None: ...

    async def query(
        self,
        owner_id: str,
        vector: Sequence[float],
        *,
        model: str,
        knowledge_base_ids: Sequence[str],
        top_k: int,
    ) -> list[VectorMatch]:
        """The `top_k` nearest of the owner's vectors of `model` in those knowledge bases,
        most similar (cosine) first."""
        ...

    async def delete_ids(self, owner_id: str, ids: Sequence[str]) -> None: ...

    async def delete_sources(self, owner_id: str, source_ids: Sequence[str]) -> None:
        """Every vector of these documents or Q&A pairs."""
        ...

    async def delete_knowledge_base(self, owner_id: str, knowledge_base_id: str) -> None: ...

    async def close(self) -> None: ...

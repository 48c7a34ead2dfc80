"""The embeddings interface: every provider turns texts into unit vectors, in batches, and
names the model so that each stored vector records the space it lives in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from services.rag.embeddings.languages import LanguageCoverage


class EmbeddingError(Exception):
    """The provider failed (down, rate-limited past the retries, or answered nonsense)."""


class Embedder(Protocol):
    @property
    def model(self) -> str:
        """The model's name as the provider knows it, e.g. `all-MiniLM-L6-v2`."""
        ...

    @property
    def coverage(self) -> LanguageCoverage:
        """The query languages its vectors are meaningful for."""
        ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text, in order. Raises EmbeddingError."""
        ...

    async def warm_up(self) -> None:
        """Get ready before the service reports SERVING (a local model loads here, which takes
        seconds; a remote provider has nothing to do)."""
        ...

    async def close(self) -> None: ...


def unit(vector: Sequence[float]) -> list[float]:
    """`vector` scaled to length 1 (cosine similarity becomes a dot product)."""
    norm = math.sqrt(sum(value * value for value in vector))
    if not norm or not math.isfinite(norm):
        raise EmbeddingError("the provider returned a zero or non-finite vector")
    return [value / norm for value in vector]


def check_batch(texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> list[list[float]]:
    if len(vectors) != len(texts):
        raise EmbeddingError(f"asked for {len(texts)} embeddings, received {len(vectors)}")
    dims = {len(vector) for vector in vectors}
    if len(dims) > 1 or 0 in dims:
        raise EmbeddingError(f"inconsistent embedding dimensions {sorted(dims)}")
    return [unit(vector) for vector in vectors]

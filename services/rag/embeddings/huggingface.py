"""The Hugging Face inference API's feature-extraction task:
`POST {base}/models/{model}/pipeline/feature-extraction` with `{"inputs": [...]}` and a bearer
token, answering one vector per input. 503 (model loading) and 429 are retried with backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from services.rag.embeddings.base import EmbeddingError, check_batch
from services.rag.embeddings.languages import LanguageCoverage, coverage_of

DEFAULT_BASE_URL = "https://router.huggingface.co/hf-inference"
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


class HuggingFaceEmbedder:
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
        self._retries = retries
        self._url = f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/models/{model}/pipeline/feature-extraction"
        self._client = httpx.AsyncClient(
            timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}
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
        body = {"inputs": list(texts), "normalize": True, "truncate": True}
        for attempt in range(self._retries + 1):
            try:
                response = await self._client.post(self._url, json=body)
            except httpx.HTTPError as error:
                if attempt == self._retries:
                    raise EmbeddingError(f"Hugging Face unreachable: {error!r}") from error
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            if response.status_code in _RETRYABLE and attempt < self._retries:
                await asyncio.sleep(_delay(response, attempt))
                continue
            if response.status_code != 200:
                raise EmbeddingError(
                    f"Hugging Face answered {response.status_code}: {response.text[:200]}"
                )
            return check_batch(texts, _vectors(response.json()))
        raise EmbeddingError("Hugging Face kept failing")

    async def warm_up(self) -> None:
        return None

    async def close(self) -> None:
        await self._client.aclose()


def _delay(response: httpx.Response, attempt: int) -> float:
    retry_after = response.headers.get("retry-after", "")
    if retry_after.replace(".", "", 1).isdigit():
        return min(float(retry_after), 10.0)
    try:
        estimated = float(response.json().get("estimated_time", 0) or 0)
    except (ValueError, AttributeError):
        estimated = 0.0
    return float(min(max(estimated, 0.2 * 2**attempt), 10.0))


def _vectors(payload: Any) -> list[list[float]]:
    if not isinstance(payload, list) or not all(isinstance(row, list) for row in payload):
        raise EmbeddingError("Hugging Face returned no list of vectors")
    vectors: list[list[float]] = []
    for row in payload:
        # A model without pooling answers one vector per token: mean-pool them.
        if row and isinstance(row[0], list):
            width = len(row[0])
            row = [sum(token[i] for token in row) / len(row) for i in range(width)]
        vectors.append([float(value) for value in row])
    return vectors

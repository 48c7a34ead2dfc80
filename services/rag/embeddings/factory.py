"""The embedder the settings name."""

from __future__ import annotations

from services.rag.embeddings.base import Embedder
from services.rag.embeddings.huggingface import HuggingFaceEmbedder
from services.rag.embeddings.languages import coverage_of
from services.rag.embeddings.local import LocalEmbedder
from services.rag.embeddings.openai_compatible import OpenAIEmbedder
from services.rag.settings import RagSettings


def create_embedder(settings: RagSettings) -> Embedder:
    coverage = coverage_of(settings.embeddings_model, settings.embeddings_languages)
    if settings.embeddings_provider == "openai":
        return OpenAIEmbedder(
            settings.embeddings_model,
            api_key=settings.embeddings_api_key,
            base_url=settings.embeddings_base_url,
            timeout=settings.embeddings_timeout_seconds,
            retries=settings.embeddings_retries,
            coverage=coverage,
        )
    if settings.embeddings_provider == "huggingface":
        return HuggingFaceEmbedder(
            settings.embeddings_model,
            api_key=settings.embeddings_api_key,
            base_url=settings.embeddings_base_url,
            timeout=settings.embeddings_timeout_seconds,
            retries=settings.embeddings_retries,
            coverage=coverage,
        )
    return LocalEmbedder(
        settings.embeddings_model,
        settings.embeddings_model_path,
        batch_size=settings.embeddings_batch_size,
        coverage=coverage,
    )

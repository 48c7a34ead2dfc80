"""rag's settings (env prefix INBETWIN_RAG_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class RagSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_RAG_", extra="ignore", frozen=True)

"""llm's settings (env prefix INBETWIN_LLM_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class LlmSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_LLM_", extra="ignore", frozen=True)

"""agent's settings (env prefix INBETWIN_AGENT_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class AgentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_AGENT_", extra="ignore", frozen=True)

"""leads's settings (env prefix INBETWIN_LEADS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class LeadsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_LEADS_", extra="ignore", frozen=True)

"""social's settings (env prefix INBETWIN_SOCIAL_)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class SocialSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_SOCIAL_", extra="ignore", frozen=True)

    # The edge's public address; webhook URLs are `{public_base_url}/webhooks/<platform>/<id>`.
    public_base_url: str
    # `kid:base64key[,kid:base64key]`, 32-byte AES keys; the first encrypts, all decrypt.
    token_encryption_keys: SecretStr
    telegram_api_base: str = "https://api.telegram.org"
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # An update whose message is older than this is stored but flagged stale (not to be answered).
    stale_update_seconds: float = Field(default=3600.0, gt=0)
    # A 429 `retry_after` up to this long is slept out by the consumer; longer ones are redelivered.
    max_inline_retry_seconds: float = Field(default=5.0, ge=0)

    @field_validator("public_base_url", "telegram_api_base")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

"""social's settings (env prefix INBETWIN_SOCIAL_)."""

from __future__ import annotations

import uuid

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class SocialSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_SOCIAL_", extra="ignore", frozen=True)

    # The edge's public address; webhook URLs are `{public_base_url}/webhooks/<platform>/<id>`.
    public_base_url: str
    # `kid:base64key[,kid:base64key]`, 32-byte AES keys; the first encrypts, all decrypt.
    token_encryption_keys: SecretStr
    # auth's gRPC address (host:port), for the plan limits (GetEntitlements).
    auth_addr: str
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # How long the webhook path remembers an integration and its secret (0: look up every call);
    # a deleted or disconnected integration stops receiving within this time.
    webhook_cache_seconds: float = Field(default=2.0, ge=0)
    # Connections the webhook path keeps open for storing messages (a fixed-size pool: opening
    # connections under load costs more than the webhooks themselves).
    webhook_pool_size: int = Field(default=16, ge=1, le=100)
    # An update whose message is older than this is stored but flagged stale (not to be answered).
    stale_update_seconds: float = Field(default=3600.0, gt=0)

    telegram_api_base: str = "https://api.telegram.org"
    # Polling mode: how long Telegram holds a getUpdates call open when there is nothing, and how
    # often each instance looks for bots in polling mode that nobody polls yet.
    telegram_poll_hold_seconds: int = Field(default=25, ge=0, le=50)
    telegram_poll_scan_seconds: float = Field(default=5.0, gt=0)
    vk_api_base: str = "https://api.vk.com"
    vk_api_version: str = "5.199"
    max_api_base: str = "https://platform-api.max.ru"

    # X: one webhook for the app, `{public_base_url}/webhooks/x/{x_webhook_id}` (a UUID of this
    # deployment's choosing), registered once at X (POST /2/webhooks) by the operator, who puts
    # the id X returned in `x_api_webhook_id`. X is enabled when all of these are set.
    x_api_base: str = "https://api.x.com"
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_client_id: str = ""
    x_client_secret: SecretStr = SecretStr("")
    # The app's consumer (API) secret: signs the CRC answer and every webhook call.
    x_consumer_secret: SecretStr = SecretStr("")
    x_webhook_id: str = ""
    x_api_webhook_id: str = ""
    # The X app's id: DMs the account sends through this app are the service's own (echoes);
    # sent from anywhere else they are the owner writing by hand, which pauses the agent. Empty:
    # every DM the account sends is taken for an echo.
    x_app_id: str = ""
    # Where X sends the browser back; empty means `{public_base_url}/api/v1/social/oauth/x/callback`.
    x_redirect_uri: str = ""
    # Other redirect URIs a client may name in StartIntegrationOAuth (registered at X too).
    x_extra_redirect_uris: tuple[str, ...] = ()

    # How often each active integration's contacts are synchronised.
    contact_sync_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often background work (due syncs, token refresh, OAuth state pruning) is looked for.
    maintenance_interval_seconds: float = Field(default=60.0, gt=0)
    # How often the send queue is polled when nothing wakes it (retries, rate-limit waits).
    send_poll_interval_seconds: float = Field(default=1.0, gt=0)
    # How long a worker holds a message it is sending. A send a crash interrupted is picked up
    # again after this; it must outlast a send (two platform calls when a token is refreshed).
    send_lease_seconds: float = Field(default=60.0, gt=0)

    @field_validator(
        "public_base_url", "telegram_api_base", "vk_api_base", "max_api_base", "x_api_base"
    )
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> SocialSettings:
        if self.send_lease_seconds <= 2 * self.http_timeout_seconds:
            raise ValueError("send_lease_seconds must exceed twice http_timeout_seconds")
        return self

    @field_validator("x_webhook_id")
    @classmethod
    def _uuid_or_empty(cls, value: str) -> str:
        if value:
            return str(uuid.UUID(value))
        return value

    @property
    def x_enabled(self) -> bool:
        return bool(
            self.x_client_id
            and self.x_consumer_secret.get_secret_value()
            and self.x_webhook_id
            and self.x_api_webhook_id
        )

    @property
    def x_default_redirect_uri(self) -> str:
        return self.x_redirect_uri or f"{self.public_base_url}/api/v1/social/oauth/x/callback"

"""agent's settings (env prefix INBETWIN_AGENT_)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class AgentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_AGENT_", extra="ignore", frozen=True)

    # Peers (set by the stack and the k8s manifests as <PEER>_ADDR).
    auth_addr: str
    social_addr: str = ""
    # `kid:base64key[,kid:base64key]`, 32-byte AES keys sealing tool secrets (webhook headers and
    # signing keys, MCP auth headers, workspace tokens); the first seals, all open. Unset: the
    # service runs, but refuses to store a secret (FAILED_PRECONDITION SECRETS_NOT_CONFIGURED).
    secret_encryption_keys: SecretStr | None = None

    # Configuration cache: a per-process copy in front of Redis in front of Postgres. Changes
    # reach every instance through `agent.config.changed`; the TTLs only bound a missed event.
    config_local_ttl_seconds: float = Field(default=30.0, gt=0)
    config_redis_ttl_seconds: int = Field(default=3600, gt=0)
    entitlements_ttl_seconds: float = Field(default=60.0, ge=0)
    peer_timeout_seconds: float = Field(default=5.0, gt=0)

    # Live activity stream.
    watch_queue_size: int = Field(default=1000, gt=0)
    watch_heartbeat_seconds: float = Field(default=15.0, gt=0)
    watch_max_duration_seconds: float = Field(default=3600.0, gt=0)
    watch_replay_max_actions: int = Field(default=1000, gt=0)
    watch_replay_max_age_seconds: float = Field(default=3600.0, gt=0)

    # Action log: entries older than the retention are deleted, in batches, every interval.
    action_log_retention_days: float = Field(default=90.0, gt=0)
    action_log_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    action_log_prune_batch: int = Field(default=5000, gt=0)

    # Tools.
    max_tools_per_owner: int = Field(default=100, gt=0)
    max_mcp_servers_per_owner: int = Field(default=20, gt=0)
    max_tool_response_bytes: int = Field(default=256 * 1024, gt=0)
    webhook_default_timeout_ms: int = Field(default=10_000, gt=0)
    webhook_max_redirects: int = Field(default=3, ge=0)
    discovery_timeout_seconds: float = Field(default=10.0, gt=0)
    builtin_tool_timeout_seconds: float = Field(default=15.0, gt=0)
    mcp_call_timeout_seconds: float = Field(default=30.0, gt=0)
    # Operator allow-list of destinations otherwise refused (loopback, private, link-local,
    # shared, metadata): comma-separated CIDRs such as `10.20.0.0/16,127.0.0.1/32`. Empty (the
    # default) allows only public addresses.
    allowed_private_networks: str = ""
    # Nameservers (`ip` or `ip:port`, comma-separated) used to resolve tool hosts; empty uses the
    # system resolver.
    dns_nameservers: str = ""

    # Workspace APIs of the built-in tools.
    notion_api_base: str = "https://api.notion.com"
    notion_version: str = "2022-06-28"
    asana_api_base: str = "https://app.asana.com/api/1.0"
    google_calendar_api_base: str = "https://www.googleapis.com/calendar/v3"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105  # noqa: S105 - a URL

    @field_validator(
        "notion_api_base", "asana_api_base", "google_calendar_api_base", "google_token_url"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

"""auth's settings (env prefix INBETWIN_AUTH_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_AUTH_", extra="ignore", frozen=True)

    jwt_issuer: str
    jwt_audience: str = "inbetwin"
    # Encrypts the signing keys' private halves (and queued reset mails) at rest (32 bytes,
    # urlsafe base64). No default.
    key_encryption_key: str
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # Argon2id cost: OWASP's m=19 MiB, t=2, p=1. OWASP rates it as strong as m=46 MiB, t=1, which
    # bench/auth_login.py measured 2.4x slower here (18 vs 44 ms per verify; login p50 through
    # Envoy 29 vs 60 ms). Raising it later is safe: hashes are upgraded on the next login.
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Hashes running at once; each holds `argon2_memory_kib`, so this bounds the memory too.
    argon2_max_concurrent: int = Field(default=2, ge=1)

    # The edge's public origin: default OAuth redirect URIs point at its callback path. Empty
    # means `jwt_issuer`, which the stack sets to that origin.
    public_base_url: str = ""
    # Redirect URIs a client may name in StartOAuth besides the default one; `{provider}` is
    # replaced by `google` or `yandex`. Each must also be registered at the provider.
    oauth_redirect_uris: tuple[str, ...] = ()
    oauth_state_ttl_seconds: int = Field(default=600, gt=0)
    oauth_http_timeout_seconds: float = Field(default=10.0, gt=0)
    # Google (OpenID Connect): endpoints and keys come from the discovery document. A provider
    # without a client id answers PROVIDER_NOT_CONFIGURED.
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # How long the discovery document and the JWKS are trusted before a refetch.
    oidc_metadata_ttl_seconds: float = Field(default=3600.0, gt=0)
    # Yandex ID (OAuth 2.0 + login.yandex.ru/info).
    yandex_client_id: str = ""
    yandex_client_secret: SecretStr = SecretStr("")
    yandex_authorize_url: str = "https://oauth.yandex.ru/authorize"
    yandex_token_url: str = "https://oauth.yandex.ru/token"  # noqa: S105 - a URL, not a secret
    yandex_info_url: str = "https://login.yandex.ru/info"
    yandex_scope: str = "login:email login:info"
    # Yandex does not say whether an address is confirmed; only mailboxes Yandex itself hosts
    # for the account are trusted as verified.
    yandex_verified_email_domains: tuple[str, ...] = (
        "yandex.ru",
        "ya.ru",
        "yandex.com",
        "yandex.by",
        "yandex.kz",
        "yandex.uz",
        "yandex.com.tr",
        "narod.ru",
    )

    # Password reset: the link is `{password_reset_url}?token=...`. Empty means
    # `{public base URL}/reset-password`.
    password_reset_url: str = ""
    password_reset_ttl_seconds: int = Field(default=1800, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # `starttls` (required, the default), `tls` (implicit, port 465) or `none` (a local relay).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "inBeTwin <no-reply@inbetwin.app>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # Brute-force throttling (fixed windows in Redis). Login counts failures; reset requests
    # count every request, whether or not the account exists.
    login_attempts_per_account: int = Field(default=5, ge=1)
    login_attempts_per_address: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    reset_requests_per_account: int = Field(default=3, ge=1)
    reset_requests_per_address: int = Field(default=20, ge=1)
    reset_window_seconds: int = Field(default=3600, ge=1)
    # Proxies in front of Envoy that append to X-Forwarded-For (0: Envoy faces the clients).
    trusted_proxy_hops: int = Field(default=0, ge=0)

    @field_validator(
        "public_base_url",
        "google_discovery_url",
        "yandex_authorize_url",
        "yandex_token_url",
        "yandex_info_url",
        "password_reset_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def public_origin(self) -> str:
        return self.public_base_url or self.jwt_issuer.rstrip("/")

    @property
    def reset_link_base(self) -> str:
        return self.password_reset_url or f"{self.public_origin}/reset-password"

"""auth's settings (env prefix INBETWIN_AUTH_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_AUTH_", extra="ignore", frozen=True)

    jwt_issuer: str
    jwt_audience: str = "inbetwin"
    # Encrypts the signing keys' private halves at rest (32 bytes, urlsafe base64). No default.
    key_encryption_key: str
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # Argon2id cost: ~40 ms per hash on one core of the reference machine (see README).
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1

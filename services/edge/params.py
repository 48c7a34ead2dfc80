"""What the Envoy edge needs to know about one deployment (local stack or Kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("auth", "social", "agent", "llm", "rag", "leads")


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where one service's gRPC server listens."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class EdgeParams:
    """Inputs of the rendered Envoy config.

    `upstreams` maps each name in SERVICES to its address. `jwks_host`/`jwks_port` is where Envoy
    fetches `/.well-known/jwks.json`: its own listener, so the fetch is transcoded to auth's
    GetJwks RPC like any client's.
    """

    listen_host: str
    listen_port: int
    admin_port: int
    upstreams: dict[str, Upstream]
    descriptor_path: Path
    jwt_issuer: str
    jwt_audience: str
    jwks_host: str
    jwks_port: int
    jwks_cache_seconds: int = 5
    cors_allowed_origins: tuple[str, ...] = ()
    max_upload_bytes: int = 32 * 1024 * 1024
    access_log_path: str = "/dev/stdout"
    upstream_timeout_seconds: float = 15.0
    # A listener on listen_host that serves only the admin's `/stats/prometheus`, so Prometheus
    # can scrape Envoy in a pod while the admin interface itself stays on loopback.
    stats_port: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

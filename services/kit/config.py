"""Settings shared by every service; each service subclasses with its own env prefix.

Settings are built once in `main` and passed down, never read at import time. Connection URLs
have no defaults, so a service started without its stores stops at once with a clear error.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common settings. Subclasses set `model_config` with `env_prefix="INBETWIN_<SVC>_"`."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # Where the gRPC server listens (0.0.0.0 in a pod); port 0 picks a free one.
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, ge=0, le=65535)
    # The service's own Postgres database (`postgresql+asyncpg://user:password@host/db`).
    database_url: str
    # Each pooled connection is checked with a round trip before use, so a restarted Postgres
    # costs no failed request; turn off to save that round trip where a retry is acceptable.
    database_pool_pre_ping: bool = True
    # Redis for caches, rate limits and short-lived state (`redis://host:6379/0`).
    redis_url: str
    # NATS with JetStream, for events (`nats://host:4222`).
    nats_url: str
    # JetStream stream replicas: 1 on one machine, 3 on a production NATS cluster.
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    # JSON log lines on stderr at this level and above.
    log_level: str = "INFO"
    # On SIGTERM: health turns NOT_SERVING, then in-flight RPCs get this long to finish.
    shutdown_grace_seconds: float = 5.0
    # Largest gRPC message accepted or sent (uploads through the edge are capped there first).
    max_receive_message_bytes: int = 32 * 1024 * 1024
    # Prometheus metrics over HTTP (`/metrics`) on grpc_host: unset serves none, 0 picks a free
    # port. The local stack gives every service its own port (`inbetwin url metrics.<svc>`).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # OpenTelemetry traces go to this OTLP/gRPC collector (`http://host:4317`; `https://` for
    # TLS). Unset: no spans are recorded or exported, but an incoming `traceparent` is still
    # passed on to peers, events and log lines. Batching follows the SDK's OTEL_BSP_* variables.
    otlp_endpoint: str | None = None
    # Share of new traces recorded when exporting; a caller's sampling decision is followed.
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

"""Where every component of one stack listens, and the URLs derived from that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.edge.params import SERVICES
from services.stack.secret_store import Secrets

HOST = "127.0.0.1"
JWT_AUDIENCE = "inbetwin"
DB_USER = "inbetwin"
INFRA_PORTS = ("postgres", "redis", "nats", "nats-monitor")
EDGE_PORTS = ("envoy", "envoy-admin")


def metrics_port_name(service: str) -> str:
    return f"{service}-metrics"


def port_names(services: Sequence[str] = SERVICES) -> tuple[str, ...]:
    """The names under which ports are allocated and remembered in ports.json: every service
    has its gRPC port and its Prometheus metrics port."""
    return (*INFRA_PORTS, *EDGE_PORTS, *services, *map(metrics_port_name, services))


@dataclass(frozen=True, slots=True)
class Topology:
    postgres_port: int
    redis_port: int
    nats_port: int
    nats_monitor_port: int
    envoy_port: int
    envoy_admin_port: int
    service_ports: Mapping[str, int]
    secrets: Secrets
    metrics_ports: Mapping[str, int]
    host: str = HOST

    @classmethod
    def from_ports(cls, ports: Mapping[str, int], secrets: Secrets) -> Topology:
        return cls(
            postgres_port=ports["postgres"],
            redis_port=ports["redis"],
            nats_port=ports["nats"],
            nats_monitor_port=ports["nats-monitor"],
            envoy_port=ports["envoy"],
            envoy_admin_port=ports["envoy-admin"],
            service_ports={name: ports[name] for name in SERVICES},
            secrets=secrets,
            metrics_ports={name: ports[metrics_port_name(name)] for name in SERVICES},
        )

    @property
    def public_url(self) -> str:
        """Envoy's listener: the REST base URL, the JWT issuer and the public base URL."""
        return f"http://{self.host}:{self.envoy_port}"

    @property
    def edge_address(self) -> str:
        """Envoy's listener for native gRPC clients (host:port)."""
        return f"{self.host}:{self.envoy_port}"

    @property
    def jwt_issuer(self) -> str:
        return self.public_url

    @property
    def jwt_audience(self) -> str:
        return JWT_AUDIENCE

    def service_address(self, name: str) -> str:
        return f"{self.host}:{self.service_ports[name]}"

    def metrics_url(self, name: str) -> str:
        """A service's Prometheus endpoint."""
        return f"http://{self.host}:{self.metrics_ports[name]}/metrics"

    @property
    def envoy_stats_url(self) -> str:
        """Envoy's statistics in the Prometheus format (served by its admin interface)."""
        return f"{self.envoy_admin_url}/stats/prometheus"

    def database_url(self, database: str) -> str:
        """SQLAlchemy URL (asyncpg driver), as the services get it."""
        return f"postgresql+asyncpg://{DB_USER}@{self.host}:{self.postgres_port}/{database}"

    def postgres_dsn(self, database: str = "postgres") -> str:
        """Plain libpq URL, for asyncpg.connect or psql."""
        return f"postgresql://{DB_USER}@{self.host}:{self.postgres_port}/{database}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.redis_port}/0"

    @property
    def nats_url(self) -> str:
        return f"nats://{self.host}:{self.nats_port}"

    @property
    def nats_monitor_url(self) -> str:
        return f"http://{self.host}:{self.nats_monitor_port}"

    @property
    def envoy_admin_url(self) -> str:
        return f"http://{self.host}:{self.envoy_admin_port}"

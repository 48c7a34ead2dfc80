"""The observability settings every service shares, and how the local stack sets them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.edge.params import SERVICES
from services.kit.config import ServiceSettings
from services.stack.environment import service_environment
from services.stack.secret_store import Secrets
from services.stack.topology import Topology, metrics_port_name, port_names

STORES: dict[str, object] = {
    "database_url": "postgresql+asyncpg://x/y",
    "redis_url": "redis://x",
    "nats_url": "nats://x",
}


def test_metrics_and_tracing_are_off_unless_configured() -> None:
    settings = ServiceSettings.model_validate(STORES)
    assert settings.metrics_port is None
    assert settings.otlp_endpoint is None
    assert settings.trace_sample_ratio == 1.0
    configured = ServiceSettings.model_validate(
        {**STORES, "metrics_port": 0, "otlp_endpoint": "http://collector:4317"}
    )
    assert (configured.metrics_port, configured.otlp_endpoint) == (0, "http://collector:4317")
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({**STORES, "trace_sample_ratio": 2})
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({**STORES, "metrics_port": 70000})


def test_the_stack_gives_every_service_its_own_metrics_port() -> None:
    ports = {name: 20000 + index for index, name in enumerate(port_names())}
    topology = Topology.from_ports(ports, Secrets("kek", "k1:tek", "k1:sek"))
    given = {}
    for name in SERVICES:
        env = service_environment(name, topology)
        given[name] = int(env[f"INBETWIN_{name.upper()}_METRICS_PORT"])
        assert given[name] == ports[metrics_port_name(name)] != ports[name]
        assert topology.metrics_url(name) == f"http://127.0.0.1:{given[name]}/metrics"
        assert not any("OTLP" in key for key in env)  # nothing exported locally by default
    assert len(set(given.values())) == len(SERVICES)
    assert topology.envoy_stats_url == f"http://127.0.0.1:{ports['envoy-admin']}/stats/prometheus"

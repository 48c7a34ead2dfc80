"""The environment contract between the launcher and the services.

`service_environment(name, topology)` returns exactly the variables one service gets from the
stack (without the inherited process environment and without per-run overrides). Every
variable is prefixed `INBETWIN_<SERVICE>_`. Extend it here when a service needs more.
"""

from __future__ import annotations

from pathlib import Path

from services.edge.params import SERVICES
from services.stack.topology import Topology

LOG_LEVEL = "INFO"


def env_prefix(name: str) -> str:
    return f"INBETWIN_{name.upper()}_"


def service_environment(
    name: str, topology: Topology, *, data_dir: Path | None = None
) -> dict[str, str]:
    """`data_dir`: where services keep files of their own (rag's original documents)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    values: dict[str, str] = {
        "GRPC_HOST": topology.host,
        "GRPC_PORT": str(topology.service_ports[name]),
        "METRICS_PORT": str(topology.metrics_ports[name]),
        "DATABASE_URL": topology.database_url(name),
        "REDIS_URL": topology.redis_url,
        "NATS_URL": topology.nats_url,
        "LOG_LEVEL": LOG_LEVEL,
    }
    for peer in SERVICES:
        if peer != name:
            values[f"{peer.upper()}_ADDR"] = topology.service_address(peer)
    if name == "auth":
        values["JWT_ISSUER"] = topology.jwt_issuer
        values["JWT_AUDIENCE"] = topology.jwt_audience
        values["KEY_ENCRYPTION_KEY"] = topology.secrets.key_encryption_key
    if name == "rag" and data_dir is not None:
        values["STORAGE_DIR"] = str(data_dir / "rag-objects")
    if name == "agent":
        values["SECRET_ENCRYPTION_KEYS"] = topology.secrets.secret_encryption_keys
    if name == "social":
        values["PUBLIC_BASE_URL"] = topology.public_url
        values["TOKEN_ENCRYPTION_KEYS"] = topology.secrets.token_encryption_keys
    prefix = env_prefix(name)
    return {prefix + key: value for key, value in values.items()}

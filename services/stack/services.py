"""The service processes: `python -m services.<svc> migrate`, then `... serve`, then wait for
gRPC health (`grpc.health.v1.Health/Check`, service "") to answer SERVING."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.stack.paths import REPO_ROOT, StatePaths
from services.stack.processes import ManagedProcess, run_to_completion, spawn, tail
from services.stack.waiting import StartupError, wait_until

MIGRATE_TIMEOUT_SECONDS = 120.0


def module_exists(name: str) -> bool:
    """True when `python -m services.<name>` has something to run (without importing it)."""
    spec = importlib.util.find_spec(f"services.{name}")
    if spec is None:
        return False
    if spec.submodule_search_locations is None:  # a plain module
        return True
    return any((Path(p) / "__main__.py").is_file() for p in spec.submodule_search_locations)


def _command(name: str, action: str) -> list[str]:
    return [sys.executable, "-m", f"services.{name}", action]


def migrate(name: str, env: Mapping[str, str], state: StatePaths, cancel: threading.Event) -> None:
    """Run the service's migrations to completion; exit code 0 expected."""
    log = state.log(name)
    code = run_to_completion(
        _command(name, "migrate"),
        env=env,
        cwd=REPO_ROOT,
        log_path=log,
        timeout=MIGRATE_TIMEOUT_SECONDS,
        cancel=cancel,
    )
    if code != 0:
        raise StartupError(f"{name} migrate exited with {code}; last lines of {log}:\n{tail(log)}")


def spawn_server(name: str, env: Mapping[str, str], state: StatePaths) -> ManagedProcess:
    return spawn(
        name,
        _command(name, "serve"),
        env=env,
        cwd=REPO_ROOT,
        log_path=state.log(name),
        pid_dir=state.run,
    )


# Answers that will not turn into SERVING by waiting longer.
PERMANENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.NOT_FOUND,
    }
)


class HealthProbe:
    """grpc.health.v1.Health/Check for the overall service (""), remembering the last answer."""

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        self.address = address
        self.last = "no answer yet"

    def __call__(self) -> bool:
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                self.last = f"{code}: {error.details() if isinstance(error, grpc.Call) else error}"
                if code in PERMANENT_CODES:
                    raise StartupError(
                        f"service {self.name} at {self.address}: health check answered "
                        f"{self.last} (it must be callable without credentials)"
                    ) from error
                return False
            self.last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def serving(address: str) -> bool:
    """True when the gRPC server at `address` reports SERVING for the overall service ("")."""
    try:
        return HealthProbe("service", address)()
    except StartupError:
        return False


def wait_healthy(
    name: str, address: str, process: ManagedProcess, timeout: float, cancel: threading.Event
) -> None:
    probe = HealthProbe(name, address)
    wait_until(
        probe,
        what=lambda: f"service {name} at {address} (last health answer: {probe.last})",
        timeout=timeout,
        cancel=cancel,
        process=process,
        interval=0.1,
    )

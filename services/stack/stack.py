"""`Stack`: start and stop one whole platform (or only its infrastructure) from a state folder.

Start-up runs in phases, each phase's components in parallel threads:
1. Postgres (initdb once, then start, then the per-service databases), Redis, NATS JetStream;
2. every service: `migrate` to completion, then `serve`, then gRPC health SERVING;
3. Envoy, rendered from the service ports, until its admin /ready answers.
Any failure (or Ctrl-C) stops everything already started, in reverse order.

Every long-lived process is spawned from one thread that lives as long as the stack: Envoy sets
PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits, so an Envoy spawned from a
short-lived worker thread gets SIGTERM as soon as that thread finishes (seen here, Envoy 1.40).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from types import TracebackType

from services.edge.params import SERVICES
from services.stack import envoy, nats_server, postgres, redis_server
from services.stack import services as service_processes
from services.stack.environment import service_environment
from services.stack.files import write_json_atomic
from services.stack.ownership import StateLock, clear_owner, write_owner
from services.stack.paths import REPO_ROOT, StatePaths, resolve_state_dir
from services.stack.ports import PortBook
from services.stack.processes import DEFAULT_GRACE_SECONDS, ManagedProcess, recorded, stop_all
from services.stack.secret_store import load_or_create
from services.stack.topology import Topology, port_names

INFRA = (postgres.NAME, redis_server.NAME, nats_server.NAME)
ENDPOINTS_FILE = "endpoints.json"
DEFAULT_TIMEOUT_SECONDS = 60.0

ExtraEnv = Mapping[str, Mapping[str, str]]


class StackError(RuntimeError):
    """The stack could not start (the message says which component and quotes its log)."""


def _python_path() -> str:
    """The repo and gen/ first, so `python -m services.<svc>` works even without the editable
    install, followed by whatever PYTHONPATH the caller had."""
    parts = [str(REPO_ROOT), str(REPO_ROOT / "gen")]
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*parts, inherited] if inherited else parts)


class Stack:
    """The platform of one state folder.

    `services` chooses which service processes `start()` runs (default: all six; ports and
    peer addresses are always allocated for all six). `edge=False` skips Envoy. Progress
    messages go to `on_event` when given.
    """

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        services: Sequence[str] | None = None,
        edge: bool = True,
        pg_major: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        grace: float = DEFAULT_GRACE_SECONDS,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.paths = StatePaths(resolve_state_dir(state_dir))
        self.services: tuple[str, ...] = tuple(SERVICES if services is None else services)
        unknown = sorted(set(self.services) - set(SERVICES))
        if unknown:
            raise StackError(f"unknown services {unknown}; known: {', '.join(SERVICES)}")
        self.edge = edge
        self.pg_major = pg_major
        self.timeout = timeout
        self.grace = grace
        self.timings: dict[str, float] = {}
        """Seconds from the start of `start()` until each component was ready."""
        self.elapsed: float | None = None
        """Seconds the last `start()`/`start_infra()` took until everything was ready."""
        self._on_event = on_event
        self._lock = StateLock(self.paths.run)
        self._topology: Topology | None = None
        self._processes: dict[str, ManagedProcess] = {}
        self._guard = threading.Lock()
        self._cancel = threading.Event()
        self._spawner: ThreadPoolExecutor | None = None
        self._started_at = 0.0
        self._started_services: tuple[str, ...] = ()
        self._started_edge = False
        self._service_envs: dict[str, dict[str, str]] = {}

    # ---- lifecycle -------------------------------------------------------------------------

    def start_infra(self) -> None:
        """Start only Postgres, Redis and NATS (for tests that need no services)."""
        self._start(services=(), edge=False, extra_env=None)

    def start(self, extra_env: ExtraEnv | None = None) -> None:
        """Start everything. `extra_env` maps a service name to complete variable names and
        values added to (or overriding) that service's environment, e.g.
        `{"social": {"INBETWIN_SOCIAL_TELEGRAM_API_URL": "http://127.0.0.1:8081"}}`."""
        self._start(services=self.services, edge=self.edge, extra_env=extra_env)

    def stop(self) -> None:
        """Stop everything this stack started: Envoy and services first, then the infra."""
        self._cancel.set()
        with self._guard:
            processes = dict(self._processes)
            self._processes.clear()
        front = [p for name, p in processes.items() if name not in INFRA]
        back = [p for name, p in processes.items() if name in INFRA]
        stop_all(front, self.grace)
        stop_all(back, self.grace)
        if self._spawner is not None:
            self._spawner.shutdown(wait=True)
            self._spawner = None
        (self.paths.run / ENDPOINTS_FILE).unlink(missing_ok=True)
        if self._lock.try_acquire():  # only touch the owner record while we hold the lock
            clear_owner(self.paths.run)
        self._lock.release()
        if processes:
            self._event("stopped")

    def running(self) -> dict[str, bool]:
        """Each started process and whether it is still alive."""
        with self._guard:
            return {name: process.alive() for name, process in self._processes.items()}

    def kill(self, name: str) -> None:
        """SIGKILL one running component (a service name, or postgres/redis/nats/envoy), as a
        crash would; for failure tests."""
        with self._guard:
            process = self._processes.get(name)
        if process is None:
            raise StackError(f"{name} is not running in this stack")
        process.kill()

    def restart(self, name: str) -> None:
        """Start again one component of the running stack (a service name, or postgres/redis/
        nats) on the same ports, data and environment, and wait until it is ready again; for
        failure tests, typically after `kill`. A component still running is stopped first
        (its stop signal, then SIGKILL after the grace). Envoy is not restartable here."""
        with self._guard:
            process = self._processes.get(name)
        if process is None:
            raise StackError(f"{name} was not started by this stack")
        restarts: dict[str, Callable[[], None]] = {
            postgres.NAME: self._start_postgres,
            redis_server.NAME: self._start_redis,
            nats_server.NAME: self._start_nats,
        }
        for service, env in self._service_envs.items():
            restarts[service] = self._serve_job(service, env)
        if name not in restarts:
            raise StackError(f"{name} cannot be restarted; restartable: {', '.join(restarts)}")
        process.stop(self.grace)
        restarts[name]()
        self._event(f"{name} restarted")

    def remove_external_data(self) -> None:
        """Delete what lives outside the state folder (the cluster under /var/tmp when root,
        the socket folder): tests call it after `stop()` so nothing piles up there. Never
        call it for a state folder whose data you want to keep."""
        layout = postgres.layout_for(self.paths, self.pg_major)
        postgres.remove_outside_state(layout, self.paths)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- endpoints -------------------------------------------------------------------------

    @property
    def topology(self) -> Topology:
        if self._topology is None:
            raise StackError("the stack has not been started")
        return self._topology

    @property
    def rest_url(self) -> str:
        """Envoy's REST base URL, e.g. http://127.0.0.1:41234."""
        return self.topology.public_url

    @property
    def grpc_address(self) -> str:
        """Envoy's address for native gRPC clients (host:port)."""
        return self.topology.edge_address

    def service_address(self, name: str) -> str:
        """A service's own gRPC address (host:port), bypassing Envoy."""
        return self.topology.service_address(name)

    def metrics_url(self, name: str) -> str:
        """A service's Prometheus endpoint, e.g. http://127.0.0.1:41235/metrics."""
        return self.topology.metrics_url(name)

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL of a service's database (postgresql+asyncpg://...)."""
        return self.topology.database_url(name)

    def postgres_dsn(self, database: str = "postgres") -> str:
        """Plain postgresql:// URL, for asyncpg.connect."""
        return self.topology.postgres_dsn(database)

    @property
    def redis_url(self) -> str:
        return self.topology.redis_url

    @property
    def nats_url(self) -> str:
        return self.topology.nats_url

    @property
    def logs_dir(self) -> Path:
        return self.paths.logs

    def service_env(self, name: str, extra_env: ExtraEnv | None = None) -> dict[str, str]:
        """The full environment a service process gets."""
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = _python_path()
        env.update(service_environment(name, self.topology, data_dir=self.paths.root / "data"))
        env.update((extra_env or {}).get(name, {}))
        return env

    def endpoints(self) -> dict[str, str]:
        """The addresses of what the last start ran (written to <state>/run/endpoints.json)."""
        topology = self.topology
        found = {
            "postgres": topology.postgres_dsn(),
            "redis": topology.redis_url,
            "nats": topology.nats_url,
            "nats_monitor": topology.nats_monitor_url,
            "logs": str(self.paths.logs),
        }
        if self._started_edge:
            found["rest"] = topology.public_url
            found["grpc"] = topology.edge_address
            found["envoy_admin"] = topology.envoy_admin_url
            found["envoy_stats"] = topology.envoy_stats_url
        for name in self._started_services:
            found[f"service.{name}"] = topology.service_address(name)
            found[f"metrics.{name}"] = topology.metrics_url(name)
        return found

    # ---- start-up --------------------------------------------------------------------------

    def _event(self, message: str) -> None:
        if self._on_event is not None:
            self._on_event(message)

    def _start(self, *, services: Sequence[str], edge: bool, extra_env: ExtraEnv | None) -> None:
        if self._processes:
            raise StackError("this stack is already running")
        unknown = sorted(set(extra_env or {}) - set(SERVICES))
        if unknown:
            raise StackError(f"extra_env names unknown services {unknown}")
        missing = [name for name in services if not service_processes.module_exists(name)]
        if missing:
            raise StackError(
                f"no runnable module for services {missing} (python -m services.<name>)"
            )
        self._started_at = time.monotonic()
        self.timings = {}
        self.elapsed = None
        self._cancel.clear()
        self._started_services = tuple(services)
        self._started_edge = edge
        self.paths.create()
        if not self._lock.try_acquire():
            raise StackError(
                f"a stack is already running from {self.paths.root}: `inbetwin down` stops it"
            )
        try:
            self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stack-spawner")
            self._stop_leftovers()
            write_owner(self.paths.run)
            ports = PortBook(self.paths.ports_file).allocate(port_names())
            self._topology = Topology.from_ports(ports, load_or_create(self.paths.secrets_file))
            config = self._render_edge() if edge else None
            self._phase(
                {
                    postgres.NAME: self._start_postgres,
                    redis_server.NAME: self._start_redis,
                    nats_server.NAME: self._start_nats,
                }
            )
            if services:
                self._service_envs = {name: self.service_env(name, extra_env) for name in services}
                self._phase(
                    {name: self._service_job(name, env) for name, env in self._service_envs.items()}
                )
            if config is not None:
                self._phase({envoy.NAME: lambda: self._start_envoy(config)})
            self.elapsed = time.monotonic() - self._started_at
            write_json_atomic(self.paths.run / ENDPOINTS_FILE, self.endpoints())
        except BaseException:
            self.stop()
            raise

    def _stop_leftovers(self) -> None:
        """Processes recorded by a previous owner that died without stopping them."""
        leftovers = recorded(self.paths.run, self.paths.logs)
        alive = {name: p for name, p in leftovers.items() if p.alive()}
        if alive:
            self._event(f"stopping leftovers of a previous run: {', '.join(sorted(alive))}")
        stop_all([p for name, p in leftovers.items() if name not in INFRA], self.grace)
        stop_all([p for name, p in leftovers.items() if name in INFRA], self.grace)

    def _render_edge(self) -> str:
        render = envoy.renderer()
        if render is None:
            raise StackError(f"{envoy.RENDER_MODULE} is missing: cannot render the Envoy config")
        return render(envoy.edge_params(self.topology, self.paths))

    def _phase(self, jobs: Mapping[str, Callable[[], None]]) -> None:
        """Run the jobs in parallel; the first failure cancels the others."""
        errors: list[str] = []
        executor = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="stack")
        try:
            futures = {executor.submit(self._timed, name, job): name for name, job in jobs.items()}
            for future in as_completed(futures):
                error = future.exception()
                if error is not None and not isinstance(error, InterruptedError):
                    errors.append(f"{futures[future]}: {error}")
                    self._cancel.set()
        except BaseException:
            self._cancel.set()
            raise
        finally:
            executor.shutdown(wait=True)
        if errors:
            raise StackError("\n".join(errors))
        if self._cancel.is_set():
            raise StackError("start-up interrupted")

    def _timed(self, name: str, job: Callable[[], None]) -> None:
        job()
        self.timings[name] = time.monotonic() - self._started_at
        self._event(f"{name} ready ({self.timings[name]:.1f} s)")

    def _spawn(self, start: Callable[[], ManagedProcess]) -> ManagedProcess:
        """Run `start` on the spawner thread (see the module docstring) and track the result."""
        if self._spawner is None:
            raise StackError("the stack is stopping")
        process = self._spawner.submit(start).result()
        with self._guard:
            self._processes[process.name] = process
        return process

    def _start_postgres(self) -> None:
        layout = postgres.prepare(postgres.layout_for(self.paths, self.pg_major), self.paths)
        if postgres.initdb_if_needed(layout, self.paths.log(postgres.NAME), self._cancel):
            self._event(f"postgres {layout.major}: new cluster in {layout.data_dir}")
        port = self.topology.postgres_port
        process = self._spawn(lambda: postgres.spawn_server(layout, port, self.paths))
        postgres.wait_ready_and_create_databases(port, process, self.timeout, self._cancel)

    def _start_redis(self) -> None:
        port = self.topology.redis_port
        process = self._spawn(lambda: redis_server.spawn_server(port, self.paths))
        redis_server.wait_ready(port, process, self.timeout, self._cancel)

    def _start_nats(self) -> None:
        topology = self.topology
        process = self._spawn(
            lambda: nats_server.spawn_server(
                topology.nats_port, topology.nats_monitor_port, self.paths
            )
        )
        nats_server.wait_ready(topology.nats_monitor_port, process, self.timeout, self._cancel)

    def _service_job(self, name: str, env: Mapping[str, str]) -> Callable[[], None]:
        serve = self._serve_job(name, env)

        def job() -> None:
            service_processes.migrate(name, env, self.paths, self._cancel)
            serve()

        return job

    def _serve_job(self, name: str, env: Mapping[str, str]) -> Callable[[], None]:
        def job() -> None:
            process = self._spawn(lambda: service_processes.spawn_server(name, env, self.paths))
            address = self.topology.service_address(name)
            service_processes.wait_healthy(name, address, process, self.timeout, self._cancel)

        return job

    def _start_envoy(self, config: str) -> None:
        topology = self.topology
        config_path = envoy.write_config(config, self.paths)
        process = self._spawn(
            lambda: envoy.spawn_server(config_path, topology.envoy_port, self.paths)
        )
        envoy.wait_ready(topology.envoy_admin_port, process, self.timeout, self._cancel)

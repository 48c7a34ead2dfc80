"""The infrastructure of the local stack on real processes: Postgres+pgvector, Redis, NATS
JetStream and Envoy, their readiness, a clean stop and data that survives a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import asyncpg
import nats
import pytest
from redis.asyncio import Redis

from services.edge.params import SERVICES
from services.stack import Stack, envoy, postgres
from services.stack.control import status
from services.stack.paths import REPO_ROOT, StatePaths
from services.stack.ports import PortBook, allocate, is_free
from services.stack.processes import recorded, stop_all
from services.stack.secret_store import Secrets
from services.stack.topology import Topology
from services.stack.waiting import StartupError

INFRA_PROCESSES = {"postgres", "redis", "nats"}
_SECRETS = Secrets("unused", "unused", "unused")


def _infra_ports(topology: Topology) -> list[int]:
    return [
        topology.postgres_port,
        topology.redis_port,
        topology.nats_port,
        topology.nats_monitor_port,
    ]


async def test_postgres_has_every_database_and_pgvector(infra: Stack) -> None:
    connection = await asyncpg.connect(infra.postgres_dsn("rag"))
    try:
        assert await connection.fetchval("SELECT 1") == 1
        assert await connection.fetchval("SHOW listen_addresses") == "127.0.0.1"
        databases = {row[0] for row in await connection.fetch("SELECT datname FROM pg_database")}
        assert set(SERVICES) <= databases
        version = await connection.fetchval(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        )
        assert version is not None
        distance = await connection.fetchval("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")
        assert distance == pytest.approx(1.0)
    finally:
        await connection.close()
    for name in SERVICES:
        assert infra.database_url(name).startswith("postgresql+asyncpg://inbetwin@127.0.0.1:")
        connection = await asyncpg.connect(infra.postgres_dsn(name))
        try:
            available = await connection.fetchval(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"
            )
            assert available == 1
        finally:
            await connection.close()


async def test_redis_answers_ping(infra: Stack) -> None:
    client = Redis.from_url(infra.redis_url)
    try:
        assert await client.ping() is True
        assert (await client.config_get("appendonly"))["appendonly"] == "yes"
    finally:
        await client.aclose()


async def test_nats_has_jetstream(infra: Stack) -> None:
    client = await nats.connect(infra.nats_url)
    try:
        info = await client.jetstream().account_info()
        assert info.limits is not None
    finally:
        await client.close()


async def _write_everywhere(stack: Stack) -> None:
    connection = await asyncpg.connect(stack.postgres_dsn("auth"))
    try:
        await connection.execute("CREATE TABLE kept (id int PRIMARY KEY, body text)")
        await connection.execute("INSERT INTO kept VALUES (1, 'survives a restart')")
    finally:
        await connection.close()
    client = Redis.from_url(stack.redis_url)
    try:
        await client.set("kept", "survives a restart")
    finally:
        await client.aclose()
    bus = await nats.connect(stack.nats_url)
    try:
        js = bus.jetstream()
        await js.add_stream(name="KEPT", subjects=["kept.>"])
        await js.publish("kept.one", b"survives a restart")
    finally:
        await bus.close()


async def _read_everywhere(stack: Stack) -> None:
    connection = await asyncpg.connect(stack.postgres_dsn("auth"))
    try:
        assert await connection.fetchval("SELECT body FROM kept WHERE id = 1") == (
            "survives a restart"
        )
    finally:
        await connection.close()
    client = Redis.from_url(stack.redis_url)
    try:
        assert await client.get("kept") == b"survives a restart"
    finally:
        await client.aclose()
    bus = await nats.connect(stack.nats_url)
    try:
        info = await bus.jetstream().stream_info("KEPT")
        assert info.state.messages == 1
    finally:
        await bus.close()


async def test_restart_reuses_data_ports_and_cluster(tmp_path: Path) -> None:
    events: list[str] = []
    stack = Stack(tmp_path / "state", services=(), on_event=events.append)
    try:
        stack.start_infra()
        cold = stack.elapsed
        first = stack.topology
        await _write_everywhere(stack)
        stack.stop()
        assert stack.running() == {}
        assert all(is_free(port) for port in _infra_ports(first))
        assert status(stack.paths).processes == {}

        stack.start_infra()
        warm = stack.elapsed
        assert _infra_ports(stack.topology) == _infra_ports(first)
        assert stack.topology.secrets == first.secrets
        await _read_everywhere(stack)
        assert sum("new cluster" in event for event in events) == 1
        assert cold is not None
        assert warm is not None
        print(f"infra start: cold {cold:.2f} s (initdb), warm {warm:.2f} s")
        assert cold < 60
    finally:
        stack.stop()
        stack.remove_external_data()


def test_a_second_stack_on_the_same_state_dir_is_refused(infra: Stack) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        Stack(infra.paths.root, services=()).start_infra()
    assert all(infra.running().values())


def test_a_taken_port_is_replaced_and_remembered_ones_are_kept(tmp_path: Path) -> None:
    first = allocate(["a", "b", "c"])
    assert len(set(first.values())) == 3
    again = allocate(["a", "b", "c"], first)
    assert again == first

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first["b"]))
        busy.listen()
        moved = allocate(["a", "b", "c"], first)
    assert moved["a"] == first["a"]
    assert moved["c"] == first["c"]
    assert moved["b"] != first["b"]


def _cli(state: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "services.stack", "--state-dir", str(state), *args]


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if needle in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        process.kill()
        pytest.fail(f"no {needle!r} within {timeout} s:\n{''.join(lines)}")
    return lines


def test_cli_up_status_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = subprocess.Popen(
        _cli(state, "up", "--infra-only"),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = _wait_for_line(up, "is up in", 60)
        assert any("logs" in line for line in lines)
        shown = subprocess.run(
            _cli(state, "status"), capture_output=True, text=True, check=False, timeout=30
        )
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "postgres" in shown.stdout
        assert "running" in shown.stdout
        stopped = subprocess.run(
            _cli(state, "down"), capture_output=True, text=True, check=False, timeout=60
        )
        assert stopped.returncode == 0, stopped.stderr
        assert "nats, postgres, redis" in stopped.stdout
        assert up.wait(timeout=30) == 0
        assert status(StatePaths(state)).processes == {}
        after = subprocess.run(_cli(state, "status"), capture_output=True, check=False)
        assert after.returncode == 3
    finally:
        if up.poll() is None:
            up.kill()
        subprocess.run(_cli(state, "down"), capture_output=True, check=False, timeout=60)
        Stack(state).remove_external_data()


def test_leftovers_of_a_killed_owner_are_stopped_by_the_next_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = subprocess.Popen(
        _cli(state, "up", "--infra-only"),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack = Stack(state, services=())
    try:
        _wait_for_line(up, "is up in", 60)
        up.send_signal(signal.SIGKILL)
        up.wait(timeout=10)
        orphans = recorded(stack.paths.run, stack.paths.logs)
        assert set(orphans) == INFRA_PROCESSES
        assert all(process.alive() for process in orphans.values())
        ports = _infra_ports(
            Topology.from_ports(PortBook(stack.paths.ports_file).remembered(), _SECRETS)
        )

        stack.start_infra()
        assert not any(process.alive() for process in orphans.values())
        assert all(stack.running().values())
        assert _infra_ports(stack.topology) == ports
    finally:
        if up.poll() is None:
            up.kill()
        stack.stop()
        subprocess.run(_cli(state, "down"), capture_output=True, check=False, timeout=60)
        stack.remove_external_data()


HCM = (
    "type.googleapis.com/"
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
)
TRIVIAL_ENVOY = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: ADMIN}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: PORT}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": HCM
          stat_prefix: main
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                direct_response: {status: 200, body: {inline_string: "hello from PORT"}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
"""


def test_two_envoys_run_side_by_side(tmp_path: Path) -> None:
    cancel = threading.Event()
    started = []
    try:
        for index in range(2):
            state = StatePaths(tmp_path / f"state{index}")
            state.create()
            ports = allocate(["envoy", "admin"])
            text = (
                TRIVIAL_ENVOY.replace("HCM", HCM)
                .replace("ADMIN", str(ports["admin"]))
                .replace("PORT", str(ports["envoy"]))
            )
            process = envoy.spawn_server(envoy.write_config(text, state), ports["envoy"], state)
            started.append(process)
            envoy.wait_ready(ports["admin"], process, 30, cancel)
            url = f"http://127.0.0.1:{ports['envoy']}/"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.read() == f"hello from {ports['envoy']}".encode()
        assert all(process.alive() for process in started)
    finally:
        stop_all(started)
    assert not any(process.alive() for process in started)


def test_a_crashing_server_fails_fast_with_its_log(tmp_path: Path) -> None:
    state = StatePaths(tmp_path / "state")
    state.create()
    ports = allocate(["envoy", "admin"])
    config = envoy.write_config("not: [valid", state)
    process = envoy.spawn_server(config, ports["envoy"], state)
    started = time.monotonic()
    with pytest.raises(StartupError, match="exited"):
        envoy.wait_ready(ports["admin"], process, 30, threading.Event())
    assert time.monotonic() - started < 20
    assert not (state.run / "envoy.pid").exists() or not process.alive()
    stop_all([process])


def test_rendered_edge_starts_in_front_of_the_infra(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "state", services=())
    try:
        stack.start()
        assert set(stack.running()) == INFRA_PROCESSES | {"envoy"}
        assert envoy.ready(stack.topology.envoy_admin_port)
        assert (stack.paths.envoy / "envoy.yaml").is_file()
        request = urllib.request.Request(f"{stack.rest_url}/no/such/route")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                code = response.status
        except urllib.error.HTTPError as error:
            code = error.code
        assert 400 <= code < 600
        print(f"infra + envoy start: {stack.elapsed:.2f} s; {stack.timings}")
    finally:
        stack.stop()
        stack.remove_external_data()


@pytest.mark.skipif(os.geteuid() != 0, reason="the nobody fallback only applies to root")
def test_binaries_out_of_nobodys_reach_are_copied_once(tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    os.chmod(hidden, 0o700)
    source = postgres.install_dir(postgres.DEFAULT_MAJOR)
    unreachable = hidden / source.name
    subprocess.run(["cp", "-a", str(source), str(unreachable)], check=True)
    user = postgres.run_as()
    assert user is not None
    assert not postgres._can_execute(user, unreachable)
    copy = postgres._world_readable_copy(unreachable)
    try:
        assert postgres._can_execute(user, copy)
        assert postgres._world_readable_copy(unreachable) == copy
    finally:
        subprocess.run(["rm", "-rf", str(copy)], check=False)

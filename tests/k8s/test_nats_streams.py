"""tools/k8s_nats_streams.py against a real three-server NATS cluster (nats-server from the venv)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.kit.bus import DEAD_LETTER_STREAM, EVENTS_STREAM, EventBus
from services.stack.paths import venv_executable
from tools import k8s_nats_streams

READY_SECONDS = 30.0


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three JetStream servers in one cluster on loopback; yields a client URL of one of them."""
    root: Path = tmp_path_factory.mktemp("nats-cluster")
    ports = _free_ports(6)
    clients, routes = ports[:3], ports[3:]
    route_urls = ", ".join(f"nats://127.0.0.1:{p}" for p in routes)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(3):
            config = root / f"n{i}.conf"
            config.write_text(
                f"server_name: n{i}\nlisten: 127.0.0.1:{clients[i]}\n"
                f"jetstream {{ store_dir: {root / f'data{i}'} }}\n"
                f"cluster {{ name: test, listen: 127.0.0.1:{routes[i]}, routes: [{route_urls}] }}\n"
            )
            log = (root / f"n{i}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [str(venv_executable("nats-server")), "-c", str(config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield f"nats://127.0.0.1:{clients[1]}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


async def _when_clustered(url: str) -> EventBus:
    """The services' own bus (R1 streams), once the cluster has a JetStream leader."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            return await asyncio.wait_for(EventBus.connect(url, name="a-service"), timeout=5)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _replicas(bus: EventBus) -> dict[str, int]:
    result: dict[str, int] = {}
    for name in (EVENTS_STREAM, DEAD_LETTER_STREAM):
        info = await bus.jetstream.stream_info(name)
        result[name] = info.config.num_replicas or 1
    return result


async def test_streams_a_service_created_are_scaled_to_three_replicas(nats_cluster: str) -> None:
    bus = await _when_clustered(nats_cluster)
    try:
        assert await _replicas(bus) == {EVENTS_STREAM: 1, DEAD_LETTER_STREAM: 1}
        result = await k8s_nats_streams.replicate_streams(nats_cluster, 3)
        assert result == {EVENTS_STREAM: 3, DEAD_LETTER_STREAM: 3}
        assert await _replicas(bus) == result
        # Idempotent: the next deploy's run changes nothing.
        assert await k8s_nats_streams.replicate_streams(nats_cluster, 3) == result
        info = await bus.jetstream.stream_info(EVENTS_STREAM)
        assert info.config.subjects == ["inbetwin.>"]  # the kit's configuration is kept
    finally:
        await bus.close()

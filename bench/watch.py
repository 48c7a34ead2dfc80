"""Live activity fan-out: 100 subscribers of one owner x 100 actions/s (10k deliveries/s), plus
a second owner's subscribers as a control, through the real path: CreateAgentAction → Postgres
+ outbox → NATS JetStream → every instance's hub → WatchAgentActivity streams (native gRPC).

Starts its own platform (auth + agent, no Envoy) in a temporary folder, prints a markdown table
and stops everything. The subscribers run in `--client-processes` processes of their own (each
with its own channel), the producer in this one; all of them share the cores with the servers.
The table also gives the CPU time each side spent per 1,000 deliveries, which says where the
time goes on a loaded machine (the agent process, or the bench's own clients).

    make bench-watch   # or: python -m bench.watch --seconds 10 --rate 100 --subscribers 100
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import grpc
import uvloop
from inbetwin.agent.v1 import action_pb2, agent_service_pb2_grpc
from inbetwin.agent.v1 import agent_service_pb2 as pb

from services.stack import Stack
from services.stack.control import status

CONTROL_SUBSCRIBERS = 5


@dataclass
class Subscriber:
    owner: str
    latencies_ms: list[float] = field(default_factory=list)
    wrong_owner: int = 0
    ids: set[str] = field(default_factory=set)


@dataclass
class ClientReport:
    """What one subscriber process saw, per owner."""

    latencies_ms: list[float]
    ids_by_owner: dict[str, list[set[str]]]
    wrong_owner: int
    cpu_seconds: float


async def _subscribe(
    stub: agent_service_pb2_grpc.AgentServiceStub,
    sub: Subscriber,
    ready: asyncio.Event,
    count: list[int],
) -> None:
    call = stub.WatchAgentActivity(
        pb.WatchAgentActivityRequest(), metadata=(("x-user-id", sub.owner),)
    )
    async for event in call:
        now = time.time()
        kind = event.WhichOneof("event")
        if kind == "heartbeat":
            count[0] += 1
            if count[0] >= count[1]:
                ready.set()
            continue
        if kind != "action":
            return
        action = event.action
        fields = action.details.fields
        if fields["owner"].string_value != sub.owner:
            sub.wrong_owner += 1
        sub.ids.add(action.id)
        sub.latencies_ms.append((now - fields["sent_at"].number_value) * 1000)


async def _watch(address: str, subs: list[Subscriber], pipe: Connection) -> None:
    channel = grpc.aio.insecure_channel(address)
    stub = agent_service_pb2_grpc.AgentServiceStub(channel)
    ready = asyncio.Event()
    count = [0, len(subs)]
    tasks = [asyncio.create_task(_subscribe(stub, s, ready, count)) for s in subs]
    await asyncio.wait_for(ready.wait(), 60)
    pipe.send("ready")
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await channel.close(None)


def _client_process(address: str, owners: list[str], pipe: Connection) -> None:
    subs = [Subscriber(owner) for owner in owners]
    uvloop.run(_watch(address, subs, pipe))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ids_by_owner: dict[str, list[set[str]]] = {}
    for sub in subs:
        ids_by_owner.setdefault(sub.owner, []).append(sub.ids)
    busy = owners[0]
    pipe.send(
        ClientReport(
            latencies_ms=[ms for s in subs if s.owner == busy for ms in s.latencies_ms],
            ids_by_owner=ids_by_owner,
            wrong_owner=sum(s.wrong_owner for s in subs),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )
    )


async def _produce(
    stub: agent_service_pb2_grpc.AgentServiceStub, owner: str, rate: float, seconds: float
) -> list[str]:
    ids: list[str] = []
    interval = 1.0 / rate
    start = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()

    async def one() -> None:
        action = action_pb2.AgentAction(
            kind=action_pb2.ACTION_KIND_REPLY_SENT, status=action_pb2.ACTION_STATUS_SUCCEEDED
        )
        action.details.update({"owner": owner, "sent_at": time.time()})
        response = await stub.CreateAgentAction(
            pb.CreateAgentActionRequest(action=action), metadata=(("x-user-id", owner),)
        )
        ids.append(response.action.id)

    for i in range(int(rate * seconds)):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one())
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return ids


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _split(items: list[str], parts: int) -> list[list[str]]:
    return [items[index::parts] for index in range(parts)]


async def _drive(
    stack: Stack, pipes: list[Connection], *, busy: str, control: str, seconds: float, rate: float
) -> tuple[list[str], list[str], float, float]:
    loop = asyncio.get_running_loop()
    for pipe in pipes:
        assert await loop.run_in_executor(None, pipe.recv) == "ready"
    agent_pid = status(stack.paths).processes["agent"][0]
    channel = grpc.aio.insecure_channel(stack.service_address("agent"))
    stub = agent_service_pb2_grpc.AgentServiceStub(channel)
    server_before, wall_before = _cpu_seconds(agent_pid), time.perf_counter()
    busy_ids, control_ids = await asyncio.gather(
        _produce(stub, busy, rate, seconds), _produce(stub, control, 1.0, seconds)
    )
    await asyncio.sleep(2.0)  # let the last deliveries land
    server_cpu = _cpu_seconds(agent_pid) - server_before
    wall = time.perf_counter() - wall_before
    await channel.close(None)
    return busy_ids, control_ids, server_cpu, wall


def run(stack: Stack, *, seconds: float, rate: float, subscribers: int, processes: int) -> None:
    busy, control = str(uuid.uuid4()), str(uuid.uuid4())
    context = multiprocessing.get_context("spawn")
    workers, pipes = [], []
    address = stack.service_address("agent")
    busy_parts = _split([busy] * subscribers, processes)
    control_parts = _split([control] * CONTROL_SUBSCRIBERS, processes)
    for owners in (b + c for b, c in zip(busy_parts, control_parts, strict=True)):
        mine, theirs = context.Pipe()
        worker = context.Process(target=_client_process, args=(address, owners, theirs))
        worker.start()
        workers.append(worker)
        pipes.append(mine)
    producer_before = resource.getrusage(resource.RUSAGE_SELF)
    busy_ids, control_ids, server_cpu, wall = uvloop.run(
        _drive(stack, pipes, busy=busy, control=control, seconds=seconds, rate=rate)
    )
    producer_after = resource.getrusage(resource.RUSAGE_SELF)
    for pipe in pipes:
        pipe.send("stop")
    reports: list[ClientReport] = [pipe.recv() for pipe in pipes]
    for worker in workers:
        worker.join(timeout=30)
    latencies = [ms for report in reports for ms in report.latencies_ms]
    seen = {
        owner: [ids for report in reports for ids in report.ids_by_owner.get(owner, [])]
        for owner in (busy, control)
    }
    delivered = sum(len(ids) for ids in seen[busy])
    expected = len(busy_ids) * subscribers
    wrong = sum(report.wrong_owner for report in reports)
    control_ok = all(ids == set(control_ids) for ids in seen[control])
    client_cpu = sum(report.cpu_seconds for report in reports)
    producer_cpu = (producer_after.ru_utime + producer_after.ru_stime) - (
        producer_before.ru_utime + producer_before.ru_stime
    )
    per_k = 1000 / max(delivered, 1) * 1000
    print(
        "| subscribers | client processes | actions/s | deliveries | delivered | p50 ms | p99 ms "
        "| max ms | wrong owner | control exact | agent CPU ms/1k | clients CPU ms/1k "
        "| producer CPU s | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {subscribers} | {processes} | {rate:g} | {expected} | {delivered} "
        f"| {statistics.median(latencies):.1f} | {_pct(latencies, 0.99):.1f} "
        f"| {max(latencies):.1f} | {wrong} | {control_ok} | {server_cpu * per_k:.0f} "
        f"| {client_cpu * per_k:.0f} | {producer_cpu:.1f} | {wall:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--client-processes", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as state:
        stack = Stack(Path(state), services=("auth", "agent"), edge=False)
        try:
            stack.start()
            run(
                stack,
                seconds=args.seconds,
                rate=args.rate,
                subscribers=args.subscribers,
                processes=args.client_processes,
            )
        finally:
            stack.stop()
            stack.remove_external_data()


if __name__ == "__main__":
    main()

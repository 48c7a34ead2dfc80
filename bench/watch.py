"""Live activity fan-out: 100 subscribers of one owner x 100 actions/s (10k deliveries/s), plus
a second owner's subscribers as a control, through the real path: CreateAgentAction → Postgres
+ outbox → NATS JetStream → every instance's hub → WatchAgentActivity streams (native gRPC).

Starts its own platform (auth + agent, no Envoy) in a temporary folder, prints a markdown table
and stops everything. The subscribers and the producer share the 2 cores with the servers.

    make bench-watch              # or: python -m bench.watch --seconds 10 --rate 100 --subscribers 100
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import uvloop
from inbetwin.agent.v1 import action_pb2, agent_service_pb2_grpc
from inbetwin.agent.v1 import agent_service_pb2 as pb

from services.stack import Stack


@dataclass
class Subscriber:
    owner: str
    latencies_ms: list[float] = field(default_factory=list)
    wrong_owner: int = 0
    ids: set[str] = field(default_factory=set)


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
        if event.WhichOneof("event") == "heartbeat":
            count[0] += 1
            if count[0] >= count[1]:
                ready.set()
            continue
        if event.WhichOneof("event") != "action":
            return
        action = event.action
        if action.details["owner"] != sub.owner:
            sub.wrong_owner += 1
        sub.ids.add(action.id)
        sub.latencies_ms.append((now - action.details["sent_at"]) * 1000)


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


async def run(stack: Stack, *, seconds: float, rate: float, subscribers: int) -> None:
    busy, control = str(uuid.uuid4()), str(uuid.uuid4())
    channel = grpc.aio.insecure_channel(stack.service_address("agent"))
    stub = agent_service_pb2_grpc.AgentServiceStub(channel)
    subs = [Subscriber(busy) for _ in range(subscribers)] + [Subscriber(control) for _ in range(5)]
    ready = asyncio.Event()
    count = [0, len(subs)]
    tasks = [asyncio.create_task(_subscribe(stub, s, ready, count)) for s in subs]
    await asyncio.wait_for(ready.wait(), 30)
    busy_ids, control_ids = await asyncio.gather(
        _produce(stub, busy, rate, seconds), _produce(stub, control, 1.0, seconds)
    )
    await asyncio.sleep(2.0)  # let the last deliveries land
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await channel.close(None)
    latencies = [ms for s in subs if s.owner == busy for ms in s.latencies_ms]
    delivered = sum(len(s.ids) for s in subs if s.owner == busy)
    expected = len(busy_ids) * subscribers
    wrong = sum(s.wrong_owner for s in subs)
    control_ok = all(s.ids == set(control_ids) for s in subs if s.owner == control)
    print(
        "| subscribers | actions/s | seconds | deliveries | delivered | p50 ms | p99 ms | max ms | wrong owner | control owner exact |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {subscribers} | {rate:g} | {seconds:g} | {expected} | {delivered} "
        f"| {statistics.median(latencies):.1f} | {_pct(latencies, 0.99):.1f} "
        f"| {max(latencies):.1f} | {wrong} | {control_ok} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--subscribers", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as state:
        stack = Stack(Path(state), services=("auth", "agent"), edge=False)
        try:
            stack.start()
            uvloop.run(
                run(stack, seconds=args.seconds, rate=args.rate, subscribers=args.subscribers)
            )
        finally:
            stack.stop()
            stack.remove_external_data()


if __name__ == "__main__":
    main()

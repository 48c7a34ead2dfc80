"""REST through Envoy (JWT + transcoding) vs native gRPC through Envoy vs direct gRPC, on the
same RPC (AuthService.GetMe: a token check at the edge and one indexed read in Postgres).

Starts its own platform (auth only, plus Envoy) in a temporary folder, prints a table and
stops everything. The load generator shares the 2 cores with the servers, so the numbers are
a floor, and what matters is the ratio measured in the same run.

    make bench-gateway               # or: python -m bench.gateway --seconds 5 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import uvloop
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc

from services.stack import Stack


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class RawHttpClient:
    """A minimal keep-alive HTTP/1.1 GET client: cheap enough not to dominate the CPU."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str]) -> None:
        self._address = (host, port)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def call(self) -> None:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(*self._address)
        assert self._reader is not None
        self._writer.write(self._request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = head[9:12]
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await self._reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"HTTP {status.decode()}")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def run(name: str, calls: list[Callable[[], Awaitable[object]]], seconds: float) -> Result:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(call: Callable[[], Awaitable[object]]) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(call) for call in calls))
    return Result(name, len(latencies), time.perf_counter() - started, latencies)


async def bench(stack: Stack, seconds: float, concurrency: int) -> list[tuple[int, Result]]:
    async with httpx.AsyncClient(base_url=stack.rest_url) as client:
        registered = (
            await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "bench password",
                    "display_name": "Bench",
                },
            )
        ).json()
    token = registered["tokens"]["access_token"]
    user_id = registered["user"]["id"]
    host, port = stack.rest_url.removeprefix("http://").split(":")
    results: list[tuple[int, Result]] = []
    direct_channel = grpc.aio.insecure_channel(stack.service_address("auth"))
    edge_channel = grpc.aio.insecure_channel(stack.grpc_address)
    direct = auth_service_pb2_grpc.AuthServiceStub(direct_channel)
    edge = auth_service_pb2_grpc.AuthServiceStub(edge_channel)
    request = pb.GetMeRequest()
    direct_md = (("x-user-id", user_id),)
    edge_md = (("authorization", f"Bearer {token}"),)
    for in_flight in (1, concurrency):
        rest_clients = [
            RawHttpClient(host, int(port), "/api/v1/auth/me", {"Authorization": f"Bearer {token}"})
            for _ in range(in_flight)
        ]
        contenders = {
            "direct gRPC": [lambda: direct.GetMe(request, metadata=direct_md)] * in_flight,
            "gRPC via Envoy": [lambda: edge.GetMe(request, metadata=edge_md)] * in_flight,
            "REST via Envoy": [c.call for c in rest_clients],
        }
        for name, calls in contenders.items():
            await run(name, calls, min(1.0, seconds / 3))  # warm up
            results.append((in_flight, await run(name, calls, seconds)))
        for c in rest_clients:
            await c.close()
    await direct_channel.close(None)
    await edge_channel.close(None)
    return results


def table(results: list[tuple[int, Result]]) -> str:
    rows = [
        "| in flight | path | req/s | p50 ms | p99 ms | vs direct |",
        "|---|---|---|---|---|---|",
    ]
    direct = {n: r for n, r in results if r.name == "direct gRPC"}
    for in_flight, result in results:
        base = direct[in_flight]
        ratio = (
            f"{result.rate / base.rate:.0%}"
            if in_flight > 1
            else (f"+{result.percentile(50) - base.percentile(50):.2f} ms p50")
        )
        rows.append(
            f"| {in_flight} | {result.name} | {result.rate:,.0f} | {result.percentile(50):.2f} | "
            f"{result.percentile(99):.2f} | {ratio} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inbetwin-bench-") as state:
        stack = Stack(Path(state), services=("auth",), edge=True)
        try:
            stack.start()
            results = uvloop.run(bench(stack, args.seconds, args.concurrency))
        finally:
            stack.stop()
            stack.remove_external_data()
    print(table(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "in_flight": n,
                        "path": r.name,
                        "rps": r.rate,
                        "p50_ms": r.percentile(50),
                        "p99_ms": r.percentile(99),
                        "median_ms": statistics.median(r.latencies_ms),
                    }
                    for n, r in results
                ],
                indent=2,
            )
        )


if __name__ == "__main__":
    main()

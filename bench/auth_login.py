"""Argon2id cost vs login latency: what one password check costs, and what a login costs end to
end (REST through Envoy: throttle counters in Redis, one read, argon2id verify, a session row,
an ES256 signature).

Part 1 times `verify` for candidate parameter sets in this process (one thread). Part 2 starts a
platform (auth only, plus Envoy) per parameter set and logs in from `--concurrency` clients for
`--seconds`. The load generator shares the cores with the servers, so throughput is a floor.

    python -m bench.auth_login --seconds 5 --concurrency 1,4
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvloop
from argon2 import PasswordHasher

from services.stack import Stack

PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark account
# (time_cost, memory KiB, parallelism): OWASP's equivalent minimums, then RFC 9106's second choice.
CANDIDATES: tuple[tuple[int, int, int], ...] = (
    (2, 19 * 1024, 1),
    (1, 46 * 1024, 1),
    (2, 46 * 1024, 1),
    (3, 64 * 1024, 4),
)


def verify_ms(time_cost: int, memory_kib: int, parallelism: int, rounds: int = 15) -> float:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    stored = hasher.hash(PASSWORD)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def login_load(rest_url: str, seconds: float, concurrency: int) -> tuple[list[float], float]:
    async with httpx.AsyncClient(base_url=rest_url, timeout=30) as client:
        emails = []
        for _ in range(concurrency):
            email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
            body = {"email": email, "password": PASSWORD, "display_name": "Bench"}
            (await client.post("/api/v1/auth/register", json=body)).raise_for_status()
            emails.append(email)
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker(email: str) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                )
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker(email) for email in emails))
        return latencies, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated client counts")
    parser.add_argument("--skip-platform", action="store_true", help="only part 1")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]

    print("argon2id verify, one thread (median of 15):")
    for t, m, p in CANDIDATES:
        print(f"  t={t} m={m // 1024:>3} MiB p={p}: {verify_ms(t, m, p):6.1f} ms")
    if args.skip_platform:
        return

    print("\nlogin through Envoy (REST), per parameter set:")
    print("  params              clients  logins/s   p50 ms   p95 ms")
    for t, m, p in CANDIDATES:
        env = {
            "INBETWIN_AUTH_ARGON2_TIME_COST": str(t),
            "INBETWIN_AUTH_ARGON2_MEMORY_KIB": str(m),
            "INBETWIN_AUTH_ARGON2_PARALLELISM": str(p),
        }
        with tempfile.TemporaryDirectory(prefix="bench-auth-") as state:
            stack = Stack(Path(state), services=("auth",), edge=True)
            try:
                stack.start({"auth": env})
                for level in levels:
                    latencies, elapsed = uvloop.run(login_load(stack.rest_url, args.seconds, level))
                    print(
                        f"  t={t} m={m // 1024:>3}MiB p={p}  {level:>7}  {len(latencies) / elapsed:8.1f}"
                        f"  {percentile(latencies, 50):7.1f}  {percentile(latencies, 95):7.1f}"
                    )
            finally:
                stack.stop()
                stack.remove_external_data()


if __name__ == "__main__":
    main()

"""Telegram webhooks through Envoy at a fixed rate: ack latency, sustained rate, exactly-once.

Starts its own platform (auth + social + Envoy, on a fresh Postgres/Redis/NATS) in a temporary
folder with a local Telegram Bot API stand-in, registers an owner and connects a bot over REST,
then plays Telegram: it POSTs realistic private-chat updates (the documented sample shape, fresh
ids, many chats) to the bot's webhook URL with its secret header, open loop at each offered rate
(a request's latency is counted from the moment it was due, so a backlog shows up), and
re-delivers a share of them as Telegram does after a missed answer. At the end it checks in
social's database that every acknowledged update is stored exactly once, as a raw update, a
message and a message.received event that reached NATS.

The generator shares the machine's cores with Envoy, social, Postgres and NATS: the numbers are
a floor for the service. So each phase also reports the CPU time the platform's processes spent
per acknowledged update (from /proc, summed over this run's processes by program), which other
work on the machine does not inflate the way it inflates latencies.

    make bench-webhooks          # or: python -m bench.webhooks --rates 300,800 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import uvloop

from services.stack import Stack
from tests.standins.telegram import TelegramStandIn

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "platforms"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


PROGRAMS = ("social", "envoy", "postgres", "nats", "auth")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds_by_program() -> dict[str, float]:
    """CPU seconds (user + system) of this process's descendants, by program (Linux /proc)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        names[pid] = _program(argv)
    mine = {os.getpid()}
    changed = True
    while changed:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        changed = bool(found)
        mine |= found
    totals = dict.fromkeys(PROGRAMS, 0.0)
    for pid in mine - {os.getpid()}:
        if names[pid]:
            totals[names[pid]] += cpu[pid]
    return totals


def _program(argv: list[bytes]) -> str:
    """`social` for `python -m services.social serve`, `envoy` for `/usr/bin/envoy ...`."""
    words = [word.decode(errors="replace") for word in argv]
    if "-m" in words[:-1]:
        module = words[words.index("-m") + 1]
        return next((p for p in PROGRAMS if module == f"services.{p}"), "")
    executable = Path(words[0]).name if words and words[0] else ""
    return next((p for p in PROGRAMS if executable.startswith(p)), "")


@dataclass
class Phase:
    offered_rate: float
    seconds: float
    sent: int = 0
    acked: int = 0
    failed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ack_rate(self) -> float:
        return self.acked / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs a body and reads the status."""

    def __init__(self, host: str, port: int, path: str, secret: str) -> None:
        self._address = (host, port)
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"{SECRET_HEADER}: {secret}\r\n"
        ).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(*self._address)
        assert self._reader is not None
        self._writer.write(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await self._reader.readexactly(length)
        return int(head[9:12])

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class UpdateFactory:
    """Realistic private-chat text updates: the documented sample, fresh ids and times."""

    def __init__(self, chats: int) -> None:
        self._template = json.loads((SAMPLE / "telegram_text_private.json").read_text())
        self._ids = itertools.count(int(time.time()) * 1000)
        self._chats = [5_000_000_000 + n for n in range(chats)]
        self._texts = [
            "Hello! How much is a haircut?",
            "Are you open on Sunday?",
            "Can I book for 3 pm tomorrow?",
            "Thanks, see you then 🙂",
        ]

    def next(self) -> tuple[int, bytes]:
        update_id = next(self._ids)
        chat = random.choice(self._chats)  # noqa: S311 - load shape, not security
        message = dict(self._template["message"])
        message.update(
            message_id=update_id,
            date=int(time.time()),
            text=random.choice(self._texts),  # noqa: S311
            chat={**self._template["message"]["chat"], "id": chat},
            **{"from": {**self._template["message"]["from"], "id": chat}},
        )
        return update_id, json.dumps({"update_id": update_id, "message": message}).encode()


async def run_phase(
    connections: asyncio.Queue[Connection],
    factory: UpdateFactory,
    phase: Phase,
    acknowledged: set[int],
    redeliver_share: float,
) -> None:
    interval = 1.0 / phase.offered_rate
    total = int(phase.offered_rate * phase.seconds)
    pending: set[asyncio.Task[None]] = set()
    recent: list[tuple[int, bytes]] = []

    async def send(update_id: int, body: bytes, due: float) -> None:
        connection = await connections.get()
        try:
            status = await connection.post(body)
        except (OSError, asyncio.IncompleteReadError):
            status = 0
            await connection.close()  # reopened by the next post
        finally:
            connections.put_nowait(connection)
        if status == 200:
            phase.acked += 1
            phase.latencies_ms.append((time.perf_counter() - due) * 1000)
            acknowledged.add(update_id)
        else:
            phase.failed += 1

    cpu_before = cpu_seconds_by_program()
    started = time.perf_counter()
    for index in range(total):
        due = started + index * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if recent and random.random() < redeliver_share:  # noqa: S311
            update_id, body = random.choice(recent)  # noqa: S311 - a redelivery
        else:
            update_id, body = factory.next()
            recent = [*recent[-200:], (update_id, body)]
        phase.sent += 1
        task = asyncio.create_task(send(update_id, body, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    phase.elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds_by_program()
    phase.cpu_seconds = {name: cpu_after[name] - cpu_before[name] for name in PROGRAMS}


async def connect_bot(stack: Stack, telegram: TelegramStandIn) -> tuple[str, str, str]:
    """Register an owner, connect a bot: (integration id, webhook path, secret)."""
    async with httpx.AsyncClient(base_url=stack.rest_url, timeout=30) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench password",
                "display_name": "Bench",
            },
        )
        registered.raise_for_status()
        token = registered.json()["tokens"]["access_token"]
        bot_token = telegram.add_bot(username="bench_bot")
        connected = await client.post(
            "/api/v1/social/integrations",
            headers={"Authorization": f"Bearer {token}"},
            json={"request_id": str(uuid.uuid4()), "telegram": {"bot_token": bot_token}},
        )
        connected.raise_for_status()
    integration_id = connected.json()["integration"]["id"]
    hook = telegram.webhook(bot_token)
    assert hook is not None
    return integration_id, f"/webhooks/telegram/{integration_id}", hook.secret_token


@dataclass
class Audit:
    acknowledged: int
    stored_updates: int
    stored_messages: int
    duplicate_keys: int
    missing: int
    events: int
    published: int


async def audit(stack: Stack, integration_id: str, acknowledged: set[int]) -> Audit:
    connection = await asyncpg.connect(stack.postgres_dsn("social"))
    try:
        keys = {
            int(row["dedup_key"])
            for row in await connection.fetch(
                "SELECT dedup_key FROM webhook_updates WHERE integration_id = $1", integration_id
            )
        }
        stored_updates = await connection.fetchval(
            "SELECT count(*) FROM webhook_updates WHERE integration_id = $1", integration_id
        )
        duplicates = await connection.fetchval(
            "SELECT count(*) FROM (SELECT dedup_key FROM messages WHERE integration_id = $1"
            " GROUP BY dedup_key HAVING count(*) > 1) d",
            integration_id,
        )
        messages = await connection.fetchval(
            "SELECT count(*) FROM messages WHERE integration_id = $1", integration_id
        )
        deadline = time.monotonic() + 60
        while True:  # the relay publishes after the ack: wait for it to catch up
            events, published = await connection.fetchrow(
                "SELECT count(*), count(published_at) FROM outbox"
                " WHERE event_type = 'inbetwin.events.v1.MessageReceived'"
            )
            if published == events or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    return Audit(
        acknowledged=len(acknowledged),
        stored_updates=int(stored_updates),
        stored_messages=int(messages),
        duplicate_keys=int(duplicates),
        missing=len(acknowledged - keys),
        events=int(events),
        published=int(published),
    )


async def bench(
    stack: Stack,
    telegram: TelegramStandIn,
    rates: list[float],
    seconds: float,
    connections: int,
    redeliver_share: float,
) -> tuple[list[Phase], Audit]:
    integration_id, path, secret = await connect_bot(stack, telegram)
    host, port = stack.rest_url.removeprefix("http://").split(":")
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, int(port), path, secret))
    factory = UpdateFactory(chats=2000)
    acknowledged: set[int] = set()
    warmup = Phase(offered_rate=100, seconds=2)
    await run_phase(pool, factory, warmup, acknowledged, 0.0)
    phases = []
    for rate in rates:
        phase = Phase(offered_rate=rate, seconds=seconds)
        await run_phase(pool, factory, phase, acknowledged, redeliver_share)
        phases.append(phase)
        await asyncio.sleep(1.0)  # let the relay drain between phases
    while not pool.empty():
        await pool.get_nowait().close()
    return phases, await audit(stack, integration_id, acknowledged)


def table(phases: list[Phase], result: Audit, redeliver_share: float, load: str) -> str:
    rows = [
        f"Telegram updates POSTed through Envoy to one bot's webhook; {load}.",
        "",
        "| offered updates/s | sent | acked | failed | acked/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        rows.append(
            f"| {p.offered_rate:,.0f} | {p.sent:,} | {p.acked:,} | {p.failed:,} | "
            f"{p.ack_rate:,.0f} | {p.percentile(50):.1f} | {p.percentile(99):.1f} | "
            f"{max(p.latencies_ms, default=float('nan')):.1f} |"
        )
    rows += [
        "",
        "CPU per acknowledged update, ms (this run's processes; other load does not inflate it):",
        "",
        "| offered updates/s | " + " | ".join(PROGRAMS) + " |",
        "|---|" + "---|" * len(PROGRAMS),
    ]
    for p in phases:
        per_update = [1000 * p.cpu_seconds.get(n, 0.0) / max(p.acked, 1) for n in PROGRAMS]
        rows.append(
            f"| {p.offered_rate:,.0f} | " + " | ".join(f"{ms:.2f}" for ms in per_update) + " |"
        )
    rows += [
        "",
        f"Exactly-once check ({redeliver_share:.0%} of the posts were redeliveries):",
        "",
        "| distinct updates acked | stored raw | stored messages | duplicated | lost "
        "| message.received | published to NATS |",
        "|---|---|---|---|---|---|---|",
        f"| {result.acknowledged:,} | {result.stored_updates:,} | {result.stored_messages:,} | "
        f"{result.duplicate_keys} | {result.missing} | {result.events:,} | {result.published:,} |",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="300,800", help="offered updates/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--redeliver", type=float, default=0.02, help="share of redeliveries")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="inbetwin-bench-") as state, TelegramStandIn() as tg:
        stack = Stack(Path(state), services=("auth", "social"), edge=True)
        try:
            stack.start(
                {
                    "social": {
                        "INBETWIN_SOCIAL_TELEGRAM_API_BASE": tg.base_url,
                        # No hourly contact sync during the run: it would refresh the bench's
                        # thousands of made-up chats through the stand-in, which is not what
                        # is measured here.
                        "INBETWIN_SOCIAL_MAINTENANCE_INTERVAL_SECONDS": "3600",
                    }
                }
            )
            phases, result = uvloop.run(
                bench(stack, tg, rates, args.seconds, args.connections, args.redeliver)
            )
        finally:
            stack.stop()
            stack.remove_external_data()
    load = (
        f"{os.cpu_count()} cores, load average {before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after the run (everything shares those cores)"
    )
    print(table(phases, result, args.redeliver, load))
    if result.missing or result.duplicate_keys or result.stored_messages != result.stored_updates:
        raise SystemExit("exactly-once check failed")


if __name__ == "__main__":
    main()

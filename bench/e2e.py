"""End to end: Telegram webhooks in through Envoy at a fixed rate → social → message.received →
llm (instant model stand-in) → reply.requested → social → the Telegram stand-in's sendMessage.

Starts its own platform (all six services and Envoy) in a temporary folder with the Telegram
and OpenAI stand-ins, registers owners with a bot and an enabled agent each (the Free plan
allows 300 replies a month per owner), sends every message from its own chat so none are
coalesced, and prints p50/p99 end-to-end latency, the achieved rate, and duplicate and missing
replies. The coalescing window is set to 0 and the agents' reply delay to 0 (either would add
its own length to every reply), and the chats are spread over at least 20 bots because social
paces Telegram sends at 30 messages/s per bot, as Telegram requires.

    make bench-e2e                     # or: python -m bench.e2e --rates 300,500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.trace_sink import SpanSink, new_trace
from services.stack import Stack
from tests.standins.openai_api import OpenAIStandIn, Reply
from tests.standins.telegram import TelegramStandIn

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "platforms"
REPLIES_PER_OWNER = 280
# social paces Telegram sends at 30 messages/s per bot (the platform's limit), so the load is
# spread over at least this many bots (one owner each) to measure the platform, not the pacing.
MIN_BOTS = 20
COALESCE_WINDOW_SECONDS = "0"


class TimedTelegram(TelegramStandIn):
    """The Telegram stand-in, also noting when each chat got each message."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = {}
        self.arrivals_ns: dict[int, int] = {}
        self._arrivals_lock = threading.Lock()

    def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        result = super().handle(token, method, params)
        if method == "sendMessage":
            with self._arrivals_lock:
                self.arrivals.setdefault(int(params["chat_id"]), []).append(time.perf_counter())
                self.arrivals_ns.setdefault(int(params["chat_id"]), time.time_ns())
        return result


SERVICES = ("envoy", "social", "llm", "agent", "rag", "auth", "leads", "nats", "postgres", "redis")


def process_table() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds used) of every process, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each process of the platform (with its children: Postgres
    backends). On a shared machine this, unlike wall time, counts only the platform's work."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    used: dict[str, float] = {}
    for name in SERVICES:
        with contextlib.suppress(OSError, KeyError, ValueError):
            root = int(json.loads((stack.paths.run / f"{name}.pid").read_text())["pid"])
            total, todo = 0.0, [root]
            while todo:
                pid = todo.pop()
                total += table.get(pid, (0, 0.0))[1]
                todo.extend(children.get(pid, []))
            used[name] = total
    return used


@dataclass
class Bot:
    token: str
    url: str
    secret: str


@dataclass
class Run:
    rate: int
    seconds: float
    sent_at: dict[int, float] = field(default_factory=dict)
    send_errors: int = 0
    traces: dict[int, tuple[str, int]] = field(default_factory=dict)  # chat → trace, sent ns
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)


def instant_reply(request: dict[str, Any]) -> Reply:
    return Reply("ok")


async def make_owner(client: httpx.AsyncClient, telegram: TimedTelegram) -> Bot:
    registered = await client.post(
        "/api/v1/auth/register",
        json={
            "email": f"bench-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": "Bench",
        },
    )
    registered.raise_for_status()
    headers = {"Authorization": f"Bearer {registered.json()['tokens']['access_token']}"}
    token = telegram.add_bot()
    connected = await client.post(
        "/api/v1/social/integrations",
        headers=headers,
        json={
            "request_id": str(uuid.uuid4()),
            "telegram": {"bot_token": token},
            "default_contact_policy": "CONTACT_POLICY_ALLOW_ALL",
        },
    )
    connected.raise_for_status()
    agent = await client.post(
        "/api/v1/agent/agents",
        headers=headers,
        json={
            "request_id": str(uuid.uuid4()),
            "agent": {
                "display_name": "Bench",
                "enabled": True,
                "system_prompt": "Be brief.",
                "reply_delay_seconds": 0,
            },
        },
    )
    agent.raise_for_status()
    hook = telegram.webhook(token)
    assert hook is not None
    return Bot(token, hook.url, hook.secret_token)


def update(chat_id: int, text: str, template: dict[str, Any], update_id: int) -> bytes:
    body = copy.deepcopy(template)
    body["update_id"] = update_id
    message = body["message"]
    message["message_id"] = update_id
    message["date"] = int(time.time())
    message["text"] = text
    message["chat"]["id"] = message["from"]["id"] = chat_id
    return json.dumps(body).encode()


async def drive(run: Run, bots: list[Bot], first_chat: int, *, traced: bool) -> None:
    template = json.loads((FIXTURE / "telegram_text_private.json").read_text())
    total = int(run.rate * run.seconds)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def send(index: int) -> None:
            bot = bots[index % len(bots)]
            chat_id = first_chat + index
            body = update(chat_id, f"bench message {index}", template, first_chat + index)
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": bot.secret,
            }
            if traced:
                trace_id, headers["traceparent"] = new_trace()
                run.traces[chat_id] = (trace_id, time.time_ns())
            run.sent_at[chat_id] = time.perf_counter()
            try:
                response = await client.post(bot.url, content=body, headers=headers)
                if response.status_code != 200:
                    run.send_errors += 1
            except httpx.HTTPError:
                run.send_errors += 1

        tasks = []
        start = time.perf_counter()
        for index in range(total):
            delay = start + index / run.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(index)))
        await asyncio.gather(*tasks)


def report(run: Run, telegram: TimedTelegram) -> dict[str, Any]:
    latencies: list[float] = []
    duplicates = missing = 0
    last_arrival = 0.0
    for chat_id, sent in run.sent_at.items():
        arrivals = telegram.arrivals.get(chat_id, [])
        if not arrivals:
            missing += 1
            continue
        duplicates += len(arrivals) - 1
        latencies.append((arrivals[0] - sent) * 1000)
        last_arrival = max(last_arrival, arrivals[0])
    latencies.sort()
    first_sent = min(run.sent_at.values())

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0

    return {
        "rate": run.rate,
        "messages": len(run.sent_at),
        "replied": len(latencies),
        "achieved": len(latencies) / max(1e-9, last_arrival - first_sent),
        "p50": pct(50),
        "p99": pct(99),
        "duplicates": duplicates,
        "missing": missing,
        "send_errors": run.send_errors,
        "cpu": run.cpu_ms_per_message,
    }


async def wait_replies(run: Run, telegram: TimedTelegram, stalled_after: float) -> None:
    """Wait until every message is replied to, or replies stop coming for `stalled_after`
    seconds (a backlog still draining is waited for: missing means missing, not late)."""
    replied, progress_at = -1, time.monotonic()
    while time.monotonic() - progress_at < stalled_after:
        now_replied = sum(1 for chat in run.sent_at if chat in telegram.arrivals)
        if now_replied == len(run.sent_at):
            break
        if now_replied != replied:
            replied, progress_at = now_replied, time.monotonic()
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # let any duplicate show up


def median_trace(run: Run, telegram: TimedTelegram, sink: SpanSink) -> list[str]:
    """The span timeline of the message with the median latency, from its webhook send."""
    replied = sorted(
        (telegram.arrivals_ns[chat] - sent_ns, chat, trace_id, sent_ns)
        for chat, (trace_id, sent_ns) in run.traces.items()
        if chat in telegram.arrivals_ns
    )
    if not replied:
        return []
    _, chat, trace_id, sent_ns = replied[len(replied) // 2]
    marks = {
        "bench   webhook sent": sent_ns,
        "bench   sendMessage at the stand-in": telegram.arrivals_ns[chat],
    }
    return sink.timeline(trace_id, sent_ns, marks)


async def main_async(
    rates: list[int], seconds: float, keep_logs: Path | None = None, traced: bool = False
) -> None:
    telegram = TimedTelegram()
    telegram.start()
    model = OpenAIStandIn(default_reply=instant_reply).start()
    sink = await SpanSink().start()
    env: dict[str, dict[str, str]] = {
        "social": {"INBETWIN_SOCIAL_TELEGRAM_API_BASE": telegram.base_url},
        "llm": {
            "INBETWIN_LLM_MODEL_BASE_URL": model.base_url,
            "INBETWIN_LLM_COALESCE_WINDOW_SECONDS": COALESCE_WINDOW_SECONDS,
        },
    }
    if traced:
        for name in ("social", "llm", "agent", "rag", "auth", "leads"):
            env.setdefault(name, {})[f"INBETWIN_{name.upper()}_OTLP_ENDPOINT"] = sink.endpoint
    timelines: list[tuple[int, list[str]]] = []
    with tempfile.TemporaryDirectory(prefix="inbetwin-bench-e2e-") as folder:
        stack = Stack(Path(folder), timeout=120)
        stack.start(env)
        try:
            rows = []
            first_chat = 6_000_000_001
            async with httpx.AsyncClient(base_url=stack.rest_url, timeout=30) as client:
                for rate in rates:
                    owners = max(MIN_BOTS, int(rate * seconds) // REPLIES_PER_OWNER + 1)
                    bots = [await make_owner(client, telegram) for _ in range(owners)]
                    run = Run(rate, seconds)
                    before = cpu_seconds(stack)
                    await drive(run, bots, first_chat, traced=traced)
                    await wait_replies(run, telegram, stalled_after=30.0)
                    after = cpu_seconds(stack)
                    run.cpu_ms_per_message = {
                        name: (after[name] - before.get(name, 0.0)) * 1000 / len(run.sent_at)
                        for name in after
                    }
                    rows.append(report(run, telegram))
                    first_chat += len(run.sent_at) + 1
                    if traced:
                        await asyncio.sleep(6.0)  # the services export spans every 5 s
                        timelines.append((rate, median_trace(run, telegram, sink)))
        finally:
            stack.stop()
            await sink.stop()
            if keep_logs is not None:
                shutil.copytree(Path(folder) / "logs", keep_logs, dirs_exist_ok=True)
            stack.remove_external_data()
            model.stop()
            telegram.stop()
    print(
        f"coalescing window {COALESCE_WINDOW_SECONDS} s, agents' reply delay 0 s, "
        f"at least {MIN_BOTS} bots (social paces 30 sends/s per bot)"
    )
    print(
        "| target msg/s | messages | replied | achieved msg/s | p50 ms | p99 ms "
        "| duplicates | missing | webhook errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['rate']} | {row['messages']} | {row['replied']} | {row['achieved']:.0f} "
            f"| {row['p50']:.1f} | {row['p99']:.1f} | {row['duplicates']} | {row['missing']} "
            f"| {row['send_errors']} |"
        )
    for rate, lines in timelines:
        print(f"\nTimeline of the median message at {rate} msg/s (one trace, tracing on):")
        print("\n".join(lines) or "(no spans)")
    print()
    print("CPU ms per message (all processes of the platform, children included):")
    names = [name for name in SERVICES if any(name in row["cpu"] for row in rows)]
    print("| target msg/s | " + " | ".join(names) + " | total |")
    print("|---|" + "---|" * (len(names) + 1))
    for row in rows:
        cpu = row["cpu"]
        cells = " | ".join(f"{cpu.get(name, 0.0):.2f}" for name in names)
        print(f"| {row['rate']} | {cells} | {sum(cpu.values()):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e")
    parser.add_argument("--rates", default="300,500", help="comma-separated messages per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep-logs", type=Path, help="copy the services' logs here")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="export every service's spans to the bench and print the median message's timeline",
    )
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    uvloop.run(main_async(rates, args.seconds, args.keep_logs, args.trace))


if __name__ == "__main__":
    main()

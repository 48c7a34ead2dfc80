"""End to end: Telegram webhooks in through Envoy at a fixed rate → social → message.received →
llm (instant model stand-in) → reply.requested → social → the Telegram stand-in's sendMessage.

Starts its own platform (all six services and Envoy) in a temporary folder with the Telegram
and OpenAI stand-ins, registers owners with a bot and an enabled agent each (the Free plan
allows 300 replies a month per owner), sends every message from its own chat so none are
coalesced, and prints p50/p99 end-to-end latency, the achieved rate, and duplicate and missing
replies. The coalescing window is set to 0 (it would add its own length to every reply).

    make bench-e2e                     # or: python -m bench.e2e --rates 300,500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

from services.stack import Stack
from tests.standins.openai_api import OpenAIStandIn, Reply
from tests.standins.telegram import TelegramStandIn

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "platforms"
REPLIES_PER_OWNER = 280


class TimedTelegram(TelegramStandIn):
    """The Telegram stand-in, also noting when each chat got each message."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = {}
        self._arrivals_lock = threading.Lock()

    def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        result = super().handle(token, method, params)
        if method == "sendMessage":
            with self._arrivals_lock:
                self.arrivals.setdefault(int(params["chat_id"]), []).append(time.perf_counter())
        return result


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
            "agent": {"display_name": "Bench", "enabled": True, "system_prompt": "Be brief."},
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


async def drive(run: Run, bots: list[Bot], first_chat: int) -> None:
    template = json.loads((FIXTURE / "telegram_text_private.json").read_text())
    total = int(run.rate * run.seconds)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def send(index: int) -> None:
            bot = bots[index % len(bots)]
            chat_id = first_chat + index
            body = update(chat_id, f"bench message {index}", template, first_chat + index)
            run.sent_at[chat_id] = time.perf_counter()
            try:
                response = await client.post(
                    bot.url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": bot.secret,
                    },
                )
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
    }


async def wait_replies(run: Run, telegram: TimedTelegram, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(chat in telegram.arrivals for chat in run.sent_at):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # let any duplicate show up


async def main_async(rates: list[int], seconds: float) -> None:
    telegram = TimedTelegram()
    telegram.start()
    model = OpenAIStandIn(default_reply=instant_reply).start()
    with tempfile.TemporaryDirectory(prefix="inbetwin-bench-e2e-") as folder:
        stack = Stack(Path(folder), timeout=120)
        stack.start(
            {
                "social": {"INBETWIN_SOCIAL_TELEGRAM_API_BASE": telegram.base_url},
                "llm": {
                    "INBETWIN_LLM_MODEL_BASE_URL": model.base_url,
                    "INBETWIN_LLM_COALESCE_WINDOW_SECONDS": "0",
                },
            }
        )
        try:
            rows = []
            first_chat = 6_000_000_001
            async with httpx.AsyncClient(base_url=stack.rest_url, timeout=30) as client:
                for rate in rates:
                    owners = max(1, int(rate * seconds) // REPLIES_PER_OWNER + 1)
                    bots = [await make_owner(client, telegram) for _ in range(owners)]
                    run = Run(rate, seconds)
                    await drive(run, bots, first_chat)
                    await wait_replies(run, telegram, within=60 + seconds)
                    rows.append(report(run, telegram))
                    first_chat += len(run.sent_at) + 1
        finally:
            stack.stop()
            stack.remove_external_data()
            model.stop()
            telegram.stop()
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e")
    parser.add_argument("--rates", default="300,500", help="comma-separated messages per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    uvloop.run(main_async(rates, args.seconds))


if __name__ == "__main__":
    main()

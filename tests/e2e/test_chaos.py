"""Chaos: contacts keep writing through the Envoy edge while social, Postgres, agent, the NATS
server and llm are each killed with SIGKILL and started again; in the end every inbound message
the platform acknowledged has exactly one reply at the Telegram stand-in, and nothing is sent
twice.

Each contact behaves like a person: writes, waits for the answer, writes again (answers to
messages written in one burst are legitimately merged, see llm's coalescing). The harness
delivers like Telegram does: a webhook that is not acknowledged with a 200 is delivered again
until it is. Replies are told apart by their text: the model stand-in quotes the message it
answers. The run ends when every acknowledged message is answered and social's send queue is
empty (a send leased by a killed process is retried when its lease expires, 60 s later), so a
late second copy cannot escape the count. The counts are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.e2e.users import connect_telegram, new_chat_id, register, text_update
from tests.standins.openai_api import OpenAIStandIn
from tests.standins.telegram import TelegramStandIn

CONTACTS = 6
# (component, seconds after the previous one is back before killing it). social and Postgres
# come first: a send they interrupt waits out social's 60 s lease before it is retried.
FAULTS = (
    ("social", 3.0),
    ("postgres", 3.0),
    ("agent", 3.0),
    ("nats", 3.0),
    ("llm", 3.0),
    ("llm", 3.0),
)
REPLY_WAIT_SECONDS = 90.0  # one reply: a lease (60 s) plus a restart on a loaded machine
DRAIN_SECONDS = 90.0  # after the last fault, for the answers and the send queue
SETTLE_SECONDS = 2.0
PENDING_SENDS = "SELECT count(*) FROM messages WHERE direction = 'outbound' AND status = 'pending'"


class TimedTelegram(TelegramStandIn):
    """The Bot API stand-in, noting when each message was accepted (to place a duplicate among
    the faults)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: dict[str, list[float]] = defaultdict(list)

    def _api_sendMessage(self, bot: Any, params: dict[str, Any]) -> Any:
        answer = super()._api_sendMessage(bot, params)
        self.accepted_at[str(params.get("text"))].append(time.monotonic())
        return answer


@pytest.fixture(scope="module")
def telegram() -> Iterator[TimedTelegram]:
    standin = TimedTelegram()
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture(scope="module")
def model() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def platform(start_stack: StartStack, telegram: TimedTelegram, model: OpenAIStandIn) -> Stack:
    # A platform of its own (the chaos must not hit other tests): only what a reply needs.
    return start_stack(
        services=("auth", "social", "agent", "llm"),
        extra_env={
            "social": {"INBETWIN_SOCIAL_TELEGRAM_API_BASE": telegram.base_url},
            "llm": {
                "INBETWIN_LLM_MODEL_BASE_URL": model.base_url,
                "INBETWIN_LLM_COALESCE_WINDOW_SECONDS": "0",
            },
        },
    )


def _reply_to(text: str) -> str:
    return f"Stand-in answer to: {text}"


@dataclass
class Tally:
    origin: float = field(default_factory=time.monotonic)
    acknowledged: list[str] = field(default_factory=list)
    acked_at: dict[str, float] = field(default_factory=dict)
    deliveries: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    stalled: list[str] = field(default_factory=list)
    windows: list[tuple[str, float, float]] = field(default_factory=list)

    def at(self, moment: float) -> str:
        return f"{moment - self.origin:.1f} s"

    def faults(self) -> str:
        return ", ".join(f"{n} down {self.at(a)} to {self.at(b)}" for n, a, b in self.windows)


async def _deliver(
    telegram: TelegramStandIn, bot_token: str, chat_id: int, text: str, tally: Tally
) -> None:
    """Deliver one update until acknowledged, as Telegram retries a webhook."""
    update = text_update(chat_id, text)
    while True:
        tally.deliveries += 1
        try:
            response = await telegram.deliver_update(bot_token, update)
        except httpx.HTTPError:
            tally.refused[0] += 1
        else:
            if response.status_code == 200:
                tally.acknowledged.append(text)
                tally.acked_at[text] = time.monotonic()
                return
            tally.refused[response.status_code] += 1
        await asyncio.sleep(0.2)


async def _contact(
    telegram: TelegramStandIn, bot_token: str, index: int, stop: asyncio.Event, tally: Tally
) -> None:
    chat_id = new_chat_id()
    number = 0
    while not stop.is_set():
        number += 1
        text = f"contact {index} message {number} (chat {chat_id})"
        await _deliver(telegram, bot_token, chat_id, text, tally)
        deadline = time.monotonic() + REPLY_WAIT_SECONDS
        while _reply_to(text) not in {m.text for m in telegram.sent_messages(chat_id)}:
            if time.monotonic() > deadline:
                tally.stalled.append(text)
                return  # counted as missing at the end; writing on would merge answers
            await asyncio.sleep(0.1)


async def _faults(platform: Stack, tally: Tally) -> None:
    for name, pause in FAULTS:
        await asyncio.sleep(pause)
        down = time.monotonic()
        await asyncio.to_thread(platform.kill, name)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(platform.restart, name)
        tally.windows.append((name, down, time.monotonic()))


async def _pending_sends(platform: Stack) -> int | None:
    try:
        connection = await asyncpg.connect(platform.postgres_dsn("social"), timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return int(await connection.fetchval(PENDING_SENDS))
    finally:
        await connection.close()


def _placed(telegram: TimedTelegram, tally: Tally, reply: str) -> str:
    copies = ", ".join(tally.at(t) for t in telegram.accepted_at[reply])
    return f"{reply!r} accepted at {copies}"


async def test_every_acknowledged_message_is_answered_exactly_once_through_crashes(
    platform: Stack, telegram: TimedTelegram, model: OpenAIStandIn
) -> None:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=30) as rest:
        owner = await register(rest, "Chaos")
        bot_token, _ = await connect_telegram(owner, telegram)
        await owner.call(
            "POST",
            "/api/v1/agent/agents",
            json={
                "agent": {
                    "display_name": "Chaos desk",
                    "enabled": True,
                    "system_prompt": "You answer every message.",
                }
            },
        )

    tally = Tally()
    stop = asyncio.Event()
    contacts = [
        asyncio.create_task(_contact(telegram, bot_token, i, stop, tally)) for i in range(CONTACTS)
    ]
    await _faults(platform, tally)
    stop.set()
    faults_over = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*contacts), REPLY_WAIT_SECONDS + 10)
    while time.monotonic() < faults_over + DRAIN_SECONDS:
        if await _pending_sends(platform) == 0:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(SETTLE_SECONDS)
    pending = await _pending_sends(platform)

    sent = Counter(m.text for m in telegram.sent_messages() if m.token == bot_token)
    acknowledged = set(tally.acknowledged)
    expected = {_reply_to(text) for text in acknowledged}
    duplicated = sorted(reply for reply in expected if sent[reply] > 1)
    missing = sorted(reply for reply in expected if sent[reply] == 0)
    unexpected = sorted(reply for reply in sent if reply not in expected)
    print(
        f"\nchaos: {time.monotonic() - tally.origin:.0f} s; {tally.faults()}\n"
        f"  inbound: {len(tally.acknowledged)} acknowledged ({tally.deliveries} deliveries, "
        f"refused {dict(tally.refused)}); replies sent: {sum(sent.values())}; answered once: "
        f"{len(expected) - len(missing) - len(duplicated)}; duplicated: {len(duplicated)}; "
        f"missing: {len(missing)}; unexpected: {len(unexpected)}; sends still pending: {pending}"
    )
    for reply in [*duplicated, *missing]:
        acked = tally.acked_at[reply.removeprefix(_reply_to(""))]
        print(f"  {_placed(telegram, tally, reply)}; its message acknowledged at {tally.at(acked)}")

    assert tally.acknowledged, "no message got through"
    assert len(acknowledged) == len(tally.acknowledged)  # each update acknowledged once
    assert unexpected == [], f"replies to no acknowledged message: {unexpected}"
    assert missing == [], f"acknowledged but never answered: {missing}"
    assert tally.stalled == []
    assert pending == 0, "social's send queue never drained"
    # KNOWN FAILURE (social bug, issue 10 report): when Postgres dies after Telegram accepted a
    # reply, OutboundSender._record_sent (services/social/sending.py) cannot commit SENT, and
    # _guarded hands the error to _retry, which makes the message due again: it is sent twice.
    # Seen in 2 of 4 runs, the copies 1 s to 60 s (the lease) apart; the lines printed above
    # place each copy among the faults.
    assert duplicated == [], f"replies sent more than once: {duplicated}"

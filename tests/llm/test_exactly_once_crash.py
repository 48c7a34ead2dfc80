"""Exactly one reply when the llm process is killed in the middle of writing it: the killed
instance committed nothing, the message is redelivered after the ack wait, and the next
instance writes the reply once. Real processes (`python -m services.llm serve`), SIGKILL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from services.kit.bus import EventBus
from services.kit.events import deterministic_id
from services.stack import Stack
from tests.llm.conftest import (
    Collected,
    Conversation,
    eventually,
    llm_env,
    llm_settings_values,
    publish,
)
from tests.llm.fakes import Peers
from tests.standins.openai_api import Hang, OpenAIStandIn, Reply

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn_llm(
    auth_stack: Stack,
    llm_database: str,
    peers: Peers,
    openai_api: OpenAIStandIn,
    tmp_path: Path,
) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    values = llm_settings_values(auth_stack, llm_database, peers, openai_api)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "gen")]),
        **llm_env(values),
    }

    def spawn(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "services.llm", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_a_consumer_killed_mid_reply_still_replies_exactly_once(
    spawn_llm: Callable[[str], subprocess.Popen[bytes]],
    bus: EventBus,
    collected: Collected,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Callable[[], Awaitable[str]],
) -> None:
    owner = await register_owner()
    conversation = Conversation(owner)
    peers.agent.add_agent(owner, display_name="A", system_prompt=f"Be brief ({owner}).")
    stuck = Hang(Reply("never sent"))
    openai_api.script(stuck, Reply("the one reply"), when=owner)

    first = spawn_llm("first")
    event = conversation.message("Is anyone there?")
    await publish(bus, event)
    await eventually(stuck.entered.is_set, within=60)
    first.kill()  # SIGKILL while the model call is in flight: nothing was committed
    await asyncio.to_thread(first.wait)
    stuck.release()

    spawn_llm("second")
    replies = await eventually(
        lambda: collected.replies(in_reply_to_message_id=event.message.id), within=60
    )
    assert [r.text for r in replies] == ["the one reply"]
    assert replies[0].reply_id == deterministic_id("reply", event.message.id)
    assert len(openai_api.chat_requests(containing=owner)) == 2

    later = conversation.message("hello again")
    await publish(bus, later)
    await eventually(lambda: collected.replies(in_reply_to_message_id=later.message.id), within=60)
    assert len(collected.replies(in_reply_to_message_id=event.message.id)) == 1

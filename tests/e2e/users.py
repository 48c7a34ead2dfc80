"""What the end-to-end tests do as people do it, through the Envoy edge only: an owner's REST
calls with their token, a contact's message as the platform's real sample update, and the
owner's live activity stream read as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.standins.telegram import TelegramStandIn

T = TypeVar("T")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
_SAMPLE = json.loads((FIXTURES / "telegram_text_private.json").read_text())
_update_ids = itertools.count(int(time.time() * 1000) % 1_000_000_000)
_chat_ids = itertools.count(7_000_000_001 + int(time.time()) % 1_000_000 * 1000)


def new_chat_id() -> int:
    return next(_chat_ids)


def text_update(chat_id: int, text: str, first_name: str = "Ann") -> dict[str, Any]:
    """Telegram's documented sample update, made fresh: new ids, the current time, the text."""
    update: dict[str, Any] = copy.deepcopy(_SAMPLE)
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["message_id"] = update["update_id"]
    message["date"] = int(time.time())
    message["text"] = text
    message["chat"]["id"] = message["from"]["id"] = chat_id
    message["chat"]["first_name"] = message["from"]["first_name"] = first_name
    return update


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, what: str, within: float = 60.0
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


async def until(probe: Callable[[], T | None], *, what: str, within: float = 60.0) -> T:
    """`eventually` for a plain (not async) probe."""

    async def lifted() -> T | None:
        return probe()

    return await eventually(lifted, what=what, within=within)


@dataclass
class Owner:
    """A registered owner: a REST client carrying their token."""

    rest: httpx.AsyncClient
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One REST call that must succeed; its JSON body."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = await self.rest.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 200, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        body: dict[str, Any] = response.json()
        return body


async def register(rest: httpx.AsyncClient, name: str = "Owner") -> Owner:
    response = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery",
            "display_name": name,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Owner(rest, body["user"]["id"], body["tokens"]["access_token"])


async def connect_telegram(owner: Owner, telegram: TelegramStandIn) -> tuple[str, str]:
    """Connect a new bot of the stand-in; (bot token, integration id)."""
    bot_token = telegram.add_bot()
    body = await owner.call(
        "POST",
        "/api/v1/social/integrations",
        json={
            "request_id": str(uuid.uuid4()),
            "telegram": {"bot_token": bot_token},
            "default_contact_policy": "CONTACT_POLICY_ALLOW_ALL",
        },
    )
    return bot_token, str(body["integration"]["id"])


@dataclass
class ActivityStream:
    """The owner's WatchAgentActivity as server-sent events, read in the background."""

    events: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def actions(self, **match: str) -> list[dict[str, Any]]:
        found = [e["action"] for e in self.events if "action" in e]
        return [a for a in found if all(a.get(k) == v for k, v in match.items())]

    async def start(self, owner: Owner) -> None:
        self.task = asyncio.create_task(self._read(owner))
        await asyncio.wait_for(self.opened.wait(), 30)

    async def _read(self, owner: Owner) -> None:
        headers = {**owner.headers, "Accept": "text/event-stream"}
        async with owner.rest.stream(
            "GET", "/api/v1/agent/activity:watch", headers=headers, timeout=None
        ) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    self.events.append(json.loads(line.removeprefix("data:")))
                    self.opened.set()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

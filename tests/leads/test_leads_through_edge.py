"""leads through the real Envoy edge: REST with a registered user's token, and the live watch as
server-sent events. The stack's own leads process consumes the events published here."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.kit.bus import EventBus
from services.stack import Stack
from tests.conftest import StartStack
from tests.leads.conftest import publish
from tests.leads.conversations import Conversation, hot_en

WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def platform(start_stack: StartStack) -> Stack:
    return start_stack(services=("auth", "leads"))


@pytest.fixture
async def rest(platform: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=20) as client:
        yield client


@pytest.fixture
async def platform_bus(platform: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(platform.nats_url, name=f"leads-edge-{uuid.uuid4().hex[:6]}")
    yield bus
    await bus.close()


async def register(rest: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    response = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"owner-{uuid.uuid4().hex[:12]}@example.com",
            "password": "correct horse battery",
            "display_name": "Owner",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["user"]["id"], {"Authorization": f"Bearer {body['tokens']['access_token']}"}


def reason(body: dict[str, Any]) -> str:
    return str(body["details"][0]["reason"])


async def listed(rest: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await rest.get("/api/v1/leads", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_rest_list_get_update_and_isolation(
    rest: httpx.AsyncClient, platform_bus: EventBus
) -> None:
    owner_id, owner = await register(rest)
    _, stranger = await register(rest)
    conversation = hot_en(Conversation(owner_id=owner_id))
    await publish(platform_bus, conversation.events)

    async def scored() -> dict[str, Any]:
        while True:
            body = await listed(rest, owner)
            if body["leads"] and body["leads"][0]["score"] == 88:
                return body
            await asyncio.sleep(0.1)

    body = await asyncio.wait_for(scored(), WAIT_SECONDS)
    assert body["total_size"] == 1
    lead = body["leads"][0]
    assert lead["stage"] == "LEAD_STAGE_HOT"
    assert lead["factors"] == []  # basic view
    assert lead["model"]["kind"] == "SCORING_MODEL_KIND_DEFAULT_WEIGHTS"

    got = await rest.get(f"/api/v1/leads/{lead['id']}", headers=owner)
    assert got.status_code == 200, got.text
    factors = {f["kind"]: f for f in got.json()["lead"]["factors"]}
    intent = factors["SCORE_FACTOR_KIND_INTENT"]
    assert intent["contribution"] == 35
    assert {e["signal"] for e in intent["evidence"]} == {
        "pricing",
        "purchase",
        "meeting",
        "urgency",
    }
    assert got.json()["score_history"][-1]["score"] == 88

    filtered = await listed(
        rest,
        owner,
        stages="LEAD_STAGE_HOT",
        min_score=80,
        order_by="last_activity_time desc",
        view="LEAD_VIEW_FULL",
    )
    assert [item["id"] for item in filtered["leads"]] == [lead["id"]]
    assert len(filtered["leads"][0]["factors"]) == 5
    assert (await listed(rest, owner, min_score=90))["total_size"] == 0

    for response in (
        await rest.get(f"/api/v1/leads/{lead['id']}", headers=stranger),
        await rest.patch(
            f"/api/v1/leads/{lead['id']}",
            params={"update_mask": "owner_label"},
            json={"owner_label": "OWNER_LABEL_NOT_A_LEAD"},
            headers=stranger,
        ),
    ):
        assert response.status_code == 404, response.text
        assert reason(response.json()) == "LEAD_NOT_FOUND"
    assert (await listed(rest, stranger))["total_size"] == 0

    won = await rest.patch(
        f"/api/v1/leads/{lead['id']}",
        params={"update_mask": "stage,notes"},
        json={"stage": "LEAD_STAGE_WON", "notes": "Invoice paid"},
        headers=owner,
    )
    assert won.status_code == 200, won.text
    assert won.json()["lead"]["stage"] == "LEAD_STAGE_WON"
    assert won.json()["lead"]["stage_overridden"] is True
    assert won.json()["lead"]["owner_label"] == "OWNER_LABEL_UNSPECIFIED"

    bad = await rest.patch(
        f"/api/v1/leads/{lead['id']}",
        params={"update_mask": "score"},
        json={"score": 1},
        headers=owner,
    )
    assert bad.status_code == 400
    assert reason(bad.json()) == "FIELD_NOT_UPDATABLE"
    too_big = await rest.get("/api/v1/leads", params={"page_size": 500}, headers=owner)
    assert too_big.status_code == 400
    assert (await rest.get("/api/v1/leads")).status_code == 401


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield json.loads(line.removeprefix("data:").strip())


async def test_watch_as_server_sent_events(rest: httpx.AsyncClient, platform_bus: EventBus) -> None:
    owner_id, owner = await register(rest)
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    too_old = (datetime.now(UTC) - timedelta(hours=30)).isoformat().replace("+00:00", "Z")
    refused = await rest.get(
        "/api/v1/leads:watch",
        params={"since_time": too_old},
        headers={**owner, "Accept": "text/event-stream"},
    )
    assert refused.status_code == 400
    assert reason(refused.json()) == "RESYNC_REQUIRED"

    async with rest.stream(
        "GET",
        "/api/v1/leads:watch",
        params={"since_time": since, "min_score": 50},
        headers={**owner, "Accept": "text/event-stream"},
        timeout=httpx.Timeout(20, read=WAIT_SECONDS),
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        conversation = hot_en(Conversation(owner_id=owner_id))
        await publish(platform_bus, conversation.events)
        events = sse_events(stream)

        async def until_hot() -> dict[str, Any]:
            async for event in events:
                update = event.get("lead_updated")
                if update and update["lead"]["stage"] == "LEAD_STAGE_HOT":
                    return dict(update)
            raise AssertionError("the stream ended")

        update = await asyncio.wait_for(until_hot(), WAIT_SECONDS)
    assert update["lead"]["contact_id"] == conversation.contact_id
    assert update["lead"]["score"] >= 50
    assert update["matches_filter"] is True
    assert update["cause"] in {"LEAD_CHANGE_CAUSE_CONVERSATION", "LEAD_CHANGE_CAUSE_FACT_SAVED"}

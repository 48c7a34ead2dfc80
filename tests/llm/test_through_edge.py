"""The playground and usage through the real Envoy edge, with a registered owner's token: Chat
as server-sent events (and NDJSON), GetUsage as REST. The stack runs auth, agent and llm as
processes; the model is the OpenAI-compatible stand-in."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.conftest import StartStack
from tests.standins.openai_api import OpenAIStandIn, Reply


@pytest.fixture(scope="module")
def platform(start_stack: StartStack, openai_api: OpenAIStandIn) -> Stack:
    return start_stack(
        services=("auth", "agent", "llm"),
        extra_env={
            "llm": {
                "INBETWIN_LLM_MODEL_BASE_URL": openai_api.base_url,
                "INBETWIN_LLM_DEFAULT_MODEL": "stand-in-model",
            }
        },
    )


@pytest.fixture
async def rest(platform: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=30) as client:
        yield client


async def owner_with_agent(rest: httpx.AsyncClient) -> tuple[dict[str, str], str, str]:
    registered = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"owner-{uuid.uuid4().hex[:12]}@example.com",
            "password": "correct horse battery",
            "display_name": "Owner",
        },
    )
    assert registered.status_code == 200, registered.text
    body = registered.json()
    headers = {"Authorization": f"Bearer {body['tokens']['access_token']}"}
    marker = uuid.uuid4().hex
    created = await rest.post(
        "/api/v1/agent/agents",
        headers=headers,
        json={
            "request_id": str(uuid.uuid4()),
            "agent": {"display_name": "Playground", "system_prompt": f"Sell haircuts {marker}."},
        },
    )
    assert created.status_code == 200, created.text
    return headers, str(created.json()["agent"]["id"]), marker


def chat_body(agent_id: str, text: str) -> dict[str, Any]:
    return {"agent_id": agent_id, "messages": [{"role": "CHAT_ROLE_USER", "content": text}]}


async def test_chat_streams_as_server_sent_events_and_usage_counts_it(
    rest: httpx.AsyncClient, openai_api: OpenAIStandIn
) -> None:
    headers, agent_id, marker = await owner_with_agent(rest)
    openai_api.script(Reply("A haircut is 1500 RUB."), when=marker)
    events: list[dict[str, Any]] = []
    async with rest.stream(
        "POST",
        "/api/v1/llm/chat",
        headers={**headers, "Accept": "text/event-stream"},
        json=chat_body(agent_id, "How much is a haircut?"),
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:")))
    kinds = [next(iter(event)) for event in events]
    assert kinds[-2:] == ["final", "end"]
    assert "delta" in kinds
    text = "".join(e["delta"]["text"] for e in events if "delta" in e)
    assert text == events[-2]["final"]["text"] == "A haircut is 1500 RUB."
    assert events[-1]["end"]["completed"] is True
    input_tokens = int(events[-2]["final"]["usage"]["input_tokens"])
    assert input_tokens > 0

    usage = await rest.get("/api/v1/llm/usage", headers=headers)
    assert usage.status_code == 200, usage.text
    counted = usage.json()["usage"]
    assert int(counted["playground_replies"]) == 1
    assert int(counted["playground_input_tokens"]) == input_tokens
    assert int(counted.get("messages_answered", 0)) == 0
    assert int(counted["message_limit"]) == 300


async def test_chat_as_ndjson_and_the_edge_refusals(
    rest: httpx.AsyncClient, openai_api: OpenAIStandIn
) -> None:
    headers, agent_id, marker = await owner_with_agent(rest)
    openai_api.script(Reply("Yes, on Sundays too."), when=marker)
    response = await rest.post(
        "/api/v1/llm/chat",
        headers={**headers, "Accept": "application/x-ndjson"},
        json=chat_body(agent_id, "Open on Sunday?"),
    )
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert [next(iter(line)) for line in lines][-2:] == ["final", "end"]

    anonymous = await rest.get("/api/v1/llm/usage")
    assert anonymous.status_code == 401
    stranger, _, _ = await owner_with_agent(rest)
    foreign = await rest.post(
        "/api/v1/llm/chat",
        headers={**stranger, "Accept": "text/event-stream"},
        json=chat_body(agent_id, "Whose agent is this?"),
    )
    assert foreign.status_code == 404, foreign.text
    bad_period = await rest.get("/api/v1/llm/usage", headers=headers, params={"period": "2999-01"})
    assert bad_period.status_code == 400

"""The agent service through the real Envoy edge: REST CRUD with a registered user's token, and
the live activity stream as server-sent events and NDJSON (chosen by `Accept`), per owner."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from inbetwin.agent.v1 import agent_service_pb2 as pb
from inbetwin.agent.v1 import agent_service_pb2_grpc, handoff_pb2

from services.stack import Stack
from tests.conftest import StartStack


@pytest.fixture(scope="module")
def platform(start_stack: StartStack) -> Stack:
    return start_stack(services=("auth", "agent"))


@pytest.fixture
async def rest(platform: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=20) as client:
        yield client


async def _register(rest: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """(the Authorization header, the user id) of a newly registered user."""
    response = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"edge-{uuid.uuid4().hex[:12]}@example.com",
            "password": "correct horse battery",
            "display_name": "Ann",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['tokens']['access_token']}"}, body["user"]["id"]


async def _token(rest: httpx.AsyncClient) -> dict[str, str]:
    return (await _register(rest))[0]


async def _guardrail_handoff(platform: Stack, user_id: str) -> str:
    """llm's internal RequestHandoff (straight to the service, as llm calls it): an action."""
    async with grpc.aio.insecure_channel(platform.service_address("agent")) as channel:
        response = await agent_service_pb2_grpc.AgentServiceStub(channel).RequestHandoff(
            pb.RequestHandoffRequest(
                integration_id=str(uuid.uuid4()),
                contact_id=str(uuid.uuid4()),
                requested_by=handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL,
            ),
            metadata=(("x-user-id", user_id),),
        )
    return str(response.handoff.id)


async def test_agents_over_rest(rest: httpx.AsyncClient) -> None:
    ann, bob = await _token(rest), await _token(rest)
    created = await rest.post(
        "/api/v1/agent/agents",
        json={"agent": {"display_name": "Sales", "system_prompt": "Be brief."}},
        headers=ann,
    )
    assert created.status_code == 200, created.text
    agent = created.json()["agent"]
    patched = await rest.patch(
        f"/api/v1/agent/agents/{agent['id']}",
        params={"update_mask": "enabled"},
        json={"enabled": True},
        headers=ann,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["agent"]["enabled"] is True
    second = await rest.post(
        "/api/v1/agent/agents",
        json={"agent": {"display_name": "More", "system_prompt": "p"}},
        headers=ann,
    )
    assert second.status_code == 429, second.text  # Free plan: one agent
    assert second.json()["details"][0]["reason"] == "AGENT_LIMIT_REACHED"
    hidden = await rest.get(f"/api/v1/agent/agents/{agent['id']}", headers=bob)
    assert hidden.status_code == 404
    assert (await rest.get("/api/v1/agent/agents")).status_code == 401


async def _events(response: httpx.Response, sse: bool) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        line = line.strip()
        if sse:
            if not line.startswith("data:"):
                continue
            line = line.removeprefix("data:").strip()
        if line:
            yield json.loads(line)


@pytest.mark.parametrize(
    ("accept", "sse"), [("text/event-stream", True), ("application/x-ndjson", False)]
)
async def test_activity_stream_through_envoy(
    rest: httpx.AsyncClient, platform: Stack, accept: str, sse: bool
) -> None:
    (ann, ann_id), (bob, bob_id) = await _register(rest), await _register(rest)
    async with (
        rest.stream(
            "GET", "/api/v1/agent/activity:watch", headers={**ann, "Accept": accept}
        ) as mine,
        rest.stream(
            "GET", "/api/v1/agent/activity:watch", headers={**bob, "Accept": accept}
        ) as theirs,
    ):
        assert mine.status_code == 200
        # Envoy labels NDJSON `application/json`; the body is one JSON object per line.
        expected = accept if sse else "application/json"
        assert mine.headers["content-type"].startswith(expected)
        ann_events, bob_events = _events(mine, sse), _events(theirs, sse)
        assert "heartbeat" in await asyncio.wait_for(ann_events.__anext__(), 10)
        assert "heartbeat" in await asyncio.wait_for(bob_events.__anext__(), 10)
        handoff_id = await _guardrail_handoff(platform, ann_id)
        event = await asyncio.wait_for(ann_events.__anext__(), 10)
        assert event["action"]["kind"] == "ACTION_KIND_HANDOFF_REQUESTED"
        assert event["action"]["details"]["handoff_id"] == handoff_id
        own = await _guardrail_handoff(platform, bob_id)
        bob_event = await asyncio.wait_for(bob_events.__anext__(), 10)
        assert bob_event["action"]["details"]["handoff_id"] == own

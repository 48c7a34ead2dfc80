"""ChangePlan through the edge: the subscription, the SubscriptionUpdated event through the
outbox, and the plan claim of the next access token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import httpx
import jwt
import pytest
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc
from inbetwin.events.v1 import auth_events_pb2

from services.auth.plans import BY_CODE
from services.stack import Stack
from tests.auth.helpers import bearer, grpc_reason, next_event, reason, register


@pytest.fixture
async def rest(auth_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_stack.rest_url, timeout=20) as client:
        yield client


def plan_claim(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["plan"])


async def change(rest: httpx.AsyncClient, token: str, tier: object) -> httpx.Response:
    return await rest.post(
        "/api/v1/auth/subscription:changePlan", json={"tier": tier}, headers=bearer(token)
    )


async def test_upgrade_publishes_the_event_and_the_next_token_carries_the_plan(
    rest: httpx.AsyncClient, auth_stack: Stack
) -> None:
    ann = await register(rest)
    bob = await register(rest)
    token = ann["tokens"]["access_token"]
    assert plan_claim(token) == "free"

    changed = await change(rest, token, "PLAN_TIER_PRO")
    assert changed.status_code == 200, changed.text
    subscription = changed.json()["subscription"]
    assert subscription["plan"]["tier"] == "PLAN_TIER_PRO"
    assert subscription["plan"]["limits"]["max_agents"] == BY_CODE["pro"].max_agents
    assert "renew_time" in subscription  # a paid plan has a billing period

    current = await rest.get("/api/v1/auth/subscription", headers=bearer(token))
    assert current.json()["subscription"]["plan"]["tier"] == "PLAN_TIER_PRO"
    refreshed = await rest.post(
        "/api/v1/auth/token:refresh", json={"refresh_token": ann["tokens"]["refresh_token"]}
    )
    assert plan_claim(refreshed.json()["tokens"]["access_token"]) == "pro"

    event = await next_event(
        auth_stack.nats_url,
        "inbetwin.auth.subscription.updated",
        auth_events_pb2.SubscriptionUpdated,
        owner_id=ann["user"]["id"],
    )
    pro = BY_CODE["pro"]
    assert (event.plan, event.version) == ("pro", 2)
    assert (event.max_agents, event.max_integrations) == (pro.max_agents, pro.max_integrations)
    assert event.max_messages_per_month == pro.max_messages_per_month
    assert event.max_knowledge_base_bytes == pro.max_knowledge_base_bytes

    # Bob's subscription is his own.
    bobs = await rest.get(
        "/api/v1/auth/subscription", headers=bearer(bob["tokens"]["access_token"])
    )
    assert bobs.json()["subscription"]["plan"]["tier"] == "PLAN_TIER_FREE"


async def test_downgrade_to_free_has_no_renewal(rest: httpx.AsyncClient) -> None:
    token = (await register(rest))["tokens"]["access_token"]
    assert (await change(rest, token, "PLAN_TIER_BUSINESS")).status_code == 200
    back = await change(rest, token, "PLAN_TIER_FREE")
    assert back.status_code == 200, back.text
    assert back.json()["subscription"]["plan"]["tier"] == "PLAN_TIER_FREE"
    assert "renew_time" not in back.json()["subscription"]


async def test_the_same_plan_is_refused(rest: httpx.AsyncClient) -> None:
    token = (await register(rest))["tokens"]["access_token"]
    same = await change(rest, token, "PLAN_TIER_FREE")
    assert same.status_code == 400
    assert reason(same.json()) == "PLAN_UNCHANGED"


async def test_concurrent_changes_to_one_plan_one_wins(rest: httpx.AsyncClient) -> None:
    token = (await register(rest))["tokens"]["access_token"]
    results = await asyncio.gather(*(change(rest, token, "PLAN_TIER_PRO") for _ in range(4)))
    assert sorted(r.status_code for r in results) == [200, 400, 400, 400]


@pytest.mark.parametrize("tier", ["PLAN_TIER_PLATINUM", 99, "PLAN_TIER_UNSPECIFIED", 0])
async def test_an_unknown_plan_is_400(rest: httpx.AsyncClient, tier: object) -> None:
    token = (await register(rest))["tokens"]["access_token"]
    response = await change(rest, token, tier)
    assert response.status_code == 400, response.text


async def test_a_defined_but_unknown_value_has_a_field_violation(rest: httpx.AsyncClient) -> None:
    token = (await register(rest))["tokens"]["access_token"]
    body = (await change(rest, token, 99)).json()
    violations = [
        v["field"]
        for d in body["details"]
        if d["@type"].endswith("BadRequest")
        for v in d.get("fieldViolations", d.get("field_violations", []))
    ]
    assert violations == ["tier"]


async def test_changing_the_plan_needs_a_token(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        "/api/v1/auth/subscription:changePlan", json={"tier": "PLAN_TIER_PRO"}
    )
    assert response.status_code == 401


async def test_change_plan_over_native_grpc(rest: httpx.AsyncClient, auth_stack: Stack) -> None:
    registered = await register(rest)
    metadata = (("authorization", f"Bearer {registered['tokens']['access_token']}"),)
    async with grpc.aio.insecure_channel(auth_stack.grpc_address) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        changed = await stub.ChangePlan(
            pb.ChangePlanRequest(tier=pb.PLAN_TIER_BUSINESS), metadata=metadata
        )
        assert changed.subscription.plan.tier == pb.PLAN_TIER_BUSINESS
        with pytest.raises(grpc.aio.AioRpcError) as same:
            await stub.ChangePlan(
                pb.ChangePlanRequest(tier=pb.PLAN_TIER_BUSINESS), metadata=metadata
            )
        assert same.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert grpc_reason(same.value) == "PLAN_UNCHANGED"
        refreshed = await stub.RefreshToken(
            pb.RefreshTokenRequest(refresh_token=registered["tokens"]["refresh_token"])
        )
    assert plan_claim(refreshed.tokens.access_token) == "business"
    # Services that enforce limits read them from auth's internal RPC, inside the mesh.
    async with grpc.aio.insecure_channel(auth_stack.service_address("auth")) as channel:
        internal = auth_service_pb2_grpc.AuthServiceStub(channel)
        entitlements = await internal.GetEntitlements(
            pb.GetEntitlementsRequest(), metadata=(("x-user-id", registered["user"]["id"]),)
        )
    assert entitlements.tier == pb.PLAN_TIER_BUSINESS
    assert entitlements.limits.max_agents == BY_CODE["business"].max_agents

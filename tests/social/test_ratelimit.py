"""Outbound rate limits on real Redis: buckets per chat and per account, shared pauses."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.social.platforms.adapter import SendLimits
from services.social.ratelimit import SendRateLimiter, SendScope
from services.stack import Stack

LIMITS = SendLimits(per_chat_rate=1.0, per_chat_burst=3, per_account_rate=0.5, per_account_burst=5)


@pytest.fixture
async def redis(auth_stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(auth_stack.redis_url)
    yield client
    await client.aclose()


def _scope(integration_id: str, chat: str = "1") -> SendScope:
    return SendScope(integration_id=integration_id, chat_id=chat)


async def test_a_chat_gets_its_burst_then_waits(redis: Redis) -> None:
    limiter = SendRateLimiter(redis)
    scope = _scope(str(uuid.uuid4()))
    assert [await limiter.acquire(scope, LIMITS) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await limiter.acquire(scope, LIMITS)
    assert 0 < wait <= 1.0  # one token comes back per second


async def test_the_account_bucket_spans_its_chats_and_a_refusal_costs_nothing(redis: Redis) -> None:
    limiter = SendRateLimiter(redis)
    integration = str(uuid.uuid4())
    granted = [await limiter.acquire(_scope(integration, str(chat)), LIMITS) for chat in range(5)]
    assert granted == [0.0] * 5
    refused = _scope(integration, "99")
    assert await limiter.acquire(refused, LIMITS) > 0
    # Both buckets or neither: the refused send took no token from its chat's bucket.
    assert float(await redis.hget(refused.chat_key, "tokens") or 0) == LIMITS.per_chat_burst


async def test_instances_share_the_buckets(redis: Redis, auth_stack: Stack) -> None:
    other = Redis.from_url(auth_stack.redis_url)
    try:
        first, second = SendRateLimiter(redis), SendRateLimiter(other)
        scope = _scope(str(uuid.uuid4()))
        waits = [await limiter.acquire(scope, LIMITS) for limiter in (first, second, first)]
        assert waits == [0.0, 0.0, 0.0]
        assert await second.acquire(scope, LIMITS) > 0
    finally:
        await other.aclose()


async def test_a_retry_after_pauses_every_chat_of_the_account(redis: Redis) -> None:
    limiter = SendRateLimiter(redis)
    integration = str(uuid.uuid4())
    await limiter.pause(_scope(integration, "1"), 30)
    assert 25 < await limiter.acquire(_scope(integration, "2"), LIMITS) <= 30
    await limiter.pause(_scope(integration, "1"), 5)  # a shorter pause never shortens it
    assert await limiter.acquire(_scope(integration, "3"), LIMITS) > 25
    assert await limiter.acquire(_scope(str(uuid.uuid4()), "1"), LIMITS) == 0.0


async def test_without_redis_sends_go_ahead() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    try:
        limiter = SendRateLimiter(unreachable)
        scope = _scope(str(uuid.uuid4()))
        assert await limiter.acquire(scope, LIMITS) == 0.0
        await limiter.pause(scope, 10)
    finally:
        await unreachable.aclose()

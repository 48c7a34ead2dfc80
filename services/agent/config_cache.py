"""The agent configuration cache: a short-lived copy in each process in front of Redis in front
of Postgres.

Writers overwrite the Redis entry after their commit (a deleted agent leaves a tombstone);
readers fill a missing entry only with SET NX, so a reader holding a pre-commit row can never
overwrite a newer value. Each instance drops its own copy when `agent.config.changed` arrives
(see `broadcast.py`), so a change is seen everywhere within the event's delivery time; the
per-process TTL only bounds the damage of a missed event.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import cast

from inbetwin.agent.v1 import agent_pb2
from redis.asyncio import Redis

TOMBSTONE = b""
Loader = Callable[[str, str], Awaitable[agent_pb2.Agent | None]]


def _key(owner_id: str, agent_id: str) -> str:
    return f"agent:cfg:{owner_id}:{agent_id}"


class AgentCache:
    def __init__(
        self, redis: Redis, load: Loader, *, local_ttl_seconds: float, redis_ttl_seconds: int
    ) -> None:
        self._redis = redis
        self._load = load
        self._local_ttl = local_ttl_seconds
        self._redis_ttl = redis_ttl_seconds
        self._local: dict[tuple[str, str], tuple[float, agent_pb2.Agent | None]] = {}

    async def get(self, owner_id: str, agent_id: str) -> agent_pb2.Agent | None:
        """The agent as last committed, or None when the owner has no such agent."""
        now = time.monotonic()
        cached = self._local.get((owner_id, agent_id))
        if cached is not None and cached[0] > now:
            return _copy(cached[1])
        raw = cast(bytes | None, await self._redis.get(_key(owner_id, agent_id)))
        agent: agent_pb2.Agent | None
        if raw is not None:
            agent = agent_pb2.Agent.FromString(bytes(raw)) if raw != TOMBSTONE else None
        else:
            agent = await self._load(owner_id, agent_id)
            if agent is not None:
                await self._redis.set(
                    _key(owner_id, agent_id),
                    agent.SerializeToString(),
                    ex=self._redis_ttl,
                    nx=True,
                )
        self._local[(owner_id, agent_id)] = (now + self._local_ttl, agent)
        return _copy(agent)

    async def written(self, owner_id: str, agent_id: str, agent: agent_pb2.Agent | None) -> None:
        """After a commit: publish the new value (None for a deleted agent) to Redis."""
        value = agent.SerializeToString() if agent is not None else TOMBSTONE
        await self._redis.set(_key(owner_id, agent_id), value, ex=self._redis_ttl)
        self.drop_local(owner_id, agent_id)

    def drop_local(self, owner_id: str, agent_id: str = "") -> None:
        if agent_id:
            self._local.pop((owner_id, agent_id), None)
            return
        for key in [k for k in self._local if k[0] == owner_id]:
            del self._local[key]


def _copy(agent: agent_pb2.Agent | None) -> agent_pb2.Agent | None:
    if agent is None:
        return None
    copy = agent_pb2.Agent()
    copy.CopyFrom(agent)
    return copy

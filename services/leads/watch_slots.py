"""The per-owner cap on open watch streams, shared by every instance through Redis.

Each open stream holds a member of the owner's sorted set, scored with its lease expiry; a live
stream renews its lease with every heartbeat, and a crashed instance's streams expire on their
own. Taking a slot is one Lua script, so concurrent watches cannot overshoot the cap.
"""

from __future__ import annotations

import time
import uuid
from typing import cast

from redis.asyncio import Redis

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class WatchSlots:
    def __init__(self, redis: Redis, *, limit: int, lease_seconds: float) -> None:
        self._redis = redis
        self._limit = limit
        self._lease = lease_seconds
        self._acquire = redis.register_script(_ACQUIRE)

    @property
    def limit(self) -> int:
        return self._limit

    async def acquire(self, owner_id: str) -> str | None:
        """A slot id, or None when the owner already has `limit` open streams."""
        slot = str(uuid.uuid4())
        now = time.time()
        taken = await self._acquire(
            keys=[_key(owner_id)],
            args=[now, self._limit, now + self._lease, slot, int(self._lease) + 60],
        )
        return slot if cast(int, taken) == 1 else None

    async def renew(self, owner_id: str, slot: str) -> None:
        await self._redis.zadd(_key(owner_id), {slot: time.time() + self._lease}, xx=True)

    async def release(self, owner_id: str, slot: str) -> None:
        await self._redis.zrem(_key(owner_id), slot)


def _key(owner_id: str) -> str:
    return f"leads:watches:{owner_id}"

"""Brute-force throttling: attempt counters in Redis, per account and per client address.

Each counter is a fixed window: the first attempt starts it with the window's TTL. An attempt is
counted *before* the work it guards, atomically across every counter it touches, so concurrent
guesses cannot slip past the limit; `forgive` takes a successful attempt back off.
Subjects (emails, addresses) are hashed before they become keys: no PII in Redis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from redis.asyncio import Redis

from services.auth.settings import AuthSettings
from services.kit.errors import ServiceError

KEY_PREFIX = "auth:throttle:"

# KEYS: counters; ARGV: their windows in ms. Returns, per key, the count and the ms left.
_HIT = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[i]); ttl = tonumber(ARGV[i]) end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out
"""

# Decrements a live counter; never creates one (that would be a key without a TTL).
_FORGIVE = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `attempts` per `window_seconds` for one subject of `scope`."""

    scope: str
    attempts: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Counter:
    limit: Limit
    subject: str

    @property
    def key(self) -> str:
        digest = hashlib.sha256(self.subject.encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}{self.limit.scope}:{digest}"


@dataclass(frozen=True, slots=True)
class AuthLimits:
    """auth's limits: login failures, reset requests and reset-token guesses."""

    login_per_account: Limit
    login_per_address: Limit
    reset_per_account: Limit
    reset_per_address: Limit
    reset_tokens_per_address: Limit

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> AuthLimits:
        login, reset = settings.login_window_seconds, settings.reset_window_seconds
        return cls(
            login_per_account=Limit("login:account", settings.login_attempts_per_account, login),
            login_per_address=Limit("login:address", settings.login_attempts_per_address, login),
            reset_per_account=Limit("reset:account", settings.reset_requests_per_account, reset),
            reset_per_address=Limit("reset:address", settings.reset_requests_per_address, reset),
            reset_tokens_per_address=Limit(
                "reset-token:address", settings.reset_requests_per_address, reset
            ),
        )


class Throttle:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._hit = redis.register_script(_HIT)
        self._forgive = redis.register_script(_FORGIVE)

    async def hit(self, counters: Sequence[Counter]) -> None:
        """Count one attempt on every counter; TOO_MANY_ATTEMPTS when any is over its limit."""
        replies = await self._hit(
            keys=[c.key for c in counters],
            args=[c.limit.window_seconds * 1000 for c in counters],
        )
        waits = [
            int(replies[2 * i + 1]) / 1000
            for i, counter in enumerate(counters)
            if int(replies[2 * i]) > counter.limit.attempts
        ]
        if waits:
            raise too_many_attempts(max(waits))

    async def forgive(self, counter: Counter) -> None:
        await self._forgive(keys=[counter.key])

    async def clear(self, counter: Counter) -> None:
        await self._redis.delete(counter.key)


def too_many_attempts(retry_after_seconds: float) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_ATTEMPTS",
        "too many attempts; retry later",
        retry_after_seconds=max(1.0, float(round(retry_after_seconds))),
    )

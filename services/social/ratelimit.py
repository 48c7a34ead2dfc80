"""Outbound rate limits shared by every instance through Redis.

Two token buckets guard each send: one per conversation and one per connected account, taken
together (both or neither) by one Lua script so that a refused send costs no token. A platform's
429 `retry_after` pauses the whole account for that long, for every instance. Time comes from the
Redis server, so instances with skewed clocks agree.

When Redis cannot be reached, sends go ahead (logged): the platforms' own 429s, which the sender
honours, remain the backstop, and messaging is not stopped by a cache outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.social.platforms.adapter import SendLimits

log = logging.getLogger("inbetwin.social.ratelimit")

# KEYS: chat bucket, account bucket, account pause. ARGV: chat rate, chat burst, account rate,
# account burst. Returns the seconds to wait as a string ("0" = granted and taken).
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local paused_until = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused_until > now then
  return tostring(paused_until - now)
end
local function level(key, rate, burst)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end
local chat_rate, chat_burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local account_rate, account_burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local chat = level(KEYS[1], chat_rate, chat_burst)
local account = level(KEYS[2], account_rate, account_burst)
local wait = 0
if chat < 1 then wait = math.max(wait, (1 - chat) / chat_rate) end
if account < 1 then wait = math.max(wait, (1 - account) / account_rate) end
if wait == 0 then
  chat = chat - 1
  account = account - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(chat), 'at', tostring(now))
redis.call('HSET', KEYS[2], 'tokens', tostring(account), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tostring(math.ceil(chat_burst / chat_rate) + 60))
redis.call('EXPIRE', KEYS[2], tostring(math.ceil(account_burst / account_rate) + 60))
return tostring(wait)
"""

# KEYS: account pause. ARGV: seconds. Extends (never shortens) the pause.
_PAUSE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local wanted = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if wanted > current then
  redis.call('SET', KEYS[1], tostring(wanted), 'EX', tostring(math.ceil(tonumber(ARGV[1])) + 1))
end
return 1
"""


@dataclass(frozen=True, slots=True)
class SendScope:
    """Who a send counts against: the connected account and one conversation of it."""

    integration_id: str
    chat_id: str

    @property
    def chat_key(self) -> str:
        return f"social:send:{self.integration_id}:chat:{self.chat_id}"

    @property
    def account_key(self) -> str:
        return f"social:send:{self.integration_id}:account"

    @property
    def pause_key(self) -> str:
        return f"social:send:{self.integration_id}:paused-until"


class SendRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    async def acquire(self, scope: SendScope, limits: SendLimits) -> float:
        """Take a token from both buckets; 0 when granted, else the seconds to wait first."""
        try:
            result = await self._acquire(
                keys=[scope.chat_key, scope.account_key, scope.pause_key],
                args=[
                    limits.per_chat_rate,
                    limits.per_chat_burst,
                    limits.per_account_rate,
                    limits.per_account_burst,
                ],
            )
        except (RedisError, OSError):
            log.warning("rate limiter unavailable; sending without it", exc_info=True)
            return 0.0
        return max(0.0, float(result))

    async def pause(self, scope: SendScope, seconds: float) -> None:
        """Hold every send of the account for `seconds` (the platform's `retry_after`)."""
        try:
            await self._pause(keys=[scope.pause_key], args=[max(seconds, 0.001)])
        except (RedisError, OSError):
            log.warning("rate limiter unavailable; pause not shared", exc_info=True)

"""Telegram polling mode (getUpdates), for owners running without a public HTTPS address.

Every instance scans for Telegram integrations in polling mode; one instance polls each bot at a
time, holding a lease in Redis (Telegram refuses two concurrent getUpdates for one bot). Each
fetched update is stored through the webhook path's storage (`WebhookReceiver.ingest`: same
parsing, de-duplication on `update_id`, events), and only then is its `update_id + 1` sent as the
next call's `offset`, which is what confirms it to Telegram. An update is therefore never
confirmed before it is stored; one stored but not yet confirmed when an instance dies comes
again and is dropped as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.social import repository
from services.social.access_tokens import AccessTokens
from services.social.crypto import CryptoError
from services.social.inbound import WebhookReceiver
from services.social.models import Integration
from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import (
    InvalidCredentialsError,
    InvalidPayloadError,
    PlatformError,
)

log = logging.getLogger("inbetwin.social.polling")

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class PollLease:
    """Who polls a bot: a Redis key holding one instance's id, expiring unless renewed."""

    def __init__(self, redis: Redis, *, ttl_seconds: float) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_seconds * 1000)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @staticmethod
    def _key(integration_id: str) -> str:
        return f"social:telegram-poll:{integration_id}"

    async def acquire(self, integration_id: str, holder: str) -> bool:
        return bool(
            await self._redis.set(self._key(integration_id), holder, nx=True, px=self._ttl_ms)
        )

    async def renew(self, integration_id: str, holder: str) -> bool:
        return bool(
            await self._renew(keys=[self._key(integration_id)], args=[holder, self._ttl_ms])
        )

    async def release(self, integration_id: str, holder: str) -> None:
        await self._release(keys=[self._key(integration_id)], args=[holder])


class TelegramPoller:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        client: TelegramClient,
        tokens: AccessTokens,
        receiver: WebhookReceiver,
        lease: PollLease,
        hold_seconds: int,
        scan_seconds: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self._tokens = tokens
        self._receiver = receiver
        self._lease = lease
        self._hold = hold_seconds
        self._scan_seconds = scan_seconds
        self._holder = str(uuid.uuid4())
        self._polling: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._scan_loop())

    async def stop(self) -> None:
        self._stopping.set()
        tasks = [t for t in (self._task, *self._polling.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _scan_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.scan()
            except Exception:
                log.exception("polling scan failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._scan_seconds)

    async def scan(self) -> None:
        """Start polling the bots in polling mode that no instance polls yet."""
        async with self._engine.connect() as connection:
            bots = await repository.polling_integrations(connection, platform="telegram")
        for bot in bots:
            if bot.id in self._polling:
                continue
            try:
                taken = await self._lease.acquire(bot.id, self._holder)
            except (RedisError, OSError):
                log.warning("poll lease unavailable", exc_info=True)
                return
            if taken:
                self._polling[bot.id] = asyncio.create_task(self._poll(bot))

    async def _poll(self, bot: Integration) -> None:
        offset = 0
        failures = 0
        try:
            while not self._stopping.is_set():
                if not await self._lease.renew(bot.id, self._holder):
                    return  # another instance took over
                async with self._engine.connect() as connection:
                    current = await repository.get_integration(
                        connection, owner_id=bot.owner_id, integration_id=bot.id
                    )
                if current is None or current.delivery_mode != "polling":
                    return
                if current.status != "active":
                    return
                try:
                    token = await self._tokens.token_for(current)
                    updates = await self._client.get_updates(
                        token, offset=offset, hold_seconds=self._hold
                    )
                except (InvalidCredentialsError, CryptoError) as error:
                    await self._fail(current, str(error))
                    return
                except PlatformError as error:
                    failures += 1
                    log.warning(
                        "getUpdates failed",
                        extra={"integration_id": bot.id, "error": error.description},
                    )
                    await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                    continue
                failures = 0
                offset = await self._store(current, updates, offset)
        except (RedisError, OSError):
            log.warning("polling stopped: lease unavailable", extra={"integration_id": bot.id})
        finally:
            self._polling.pop(bot.id, None)
            with contextlib.suppress(RedisError, OSError):
                await self._lease.release(bot.id, self._holder)

    async def _store(self, bot: Integration, updates: list[dict[str, object]], offset: int) -> int:
        """Store the updates in order; the offset to confirm them with (stops at a failure)."""
        for update in updates:
            update_id = update.get("update_id")
            if not isinstance(update_id, int):
                continue
            try:
                await self._receiver.ingest(bot, json.dumps(update).encode())
            except InvalidPayloadError:
                log.warning("unreadable update skipped", extra={"integration_id": bot.id})
            except Exception:
                log.exception("cannot store a polled update", extra={"integration_id": bot.id})
                await asyncio.sleep(1.0)
                return offset  # not confirmed: Telegram sends it again
            offset = max(offset, update_id + 1)
        return offset

    async def _fail(self, bot: Integration, message: str) -> None:
        async with self._engine.begin() as connection:
            await repository.set_integration_error(
                connection,
                owner_id=bot.owner_id,
                integration_id=bot.id,
                status="error",
                error=f"{message}: the bot token was revoked",
            )

"""The send queue's worker: sends pending outbound messages (agent replies and the owner's own)
through their platform's adapter.

Send-once guarantee
-------------------
1. A message is queued PENDING in the transaction that accepted it (the reply command's
   consumer, or SendMessage), under a unique key ((`reply_id`, part) or the owner's
   `request_id`), so accepting it twice queues it once.
2. A worker leases the head of each conversation's queue (`message_repository.claim_due`) in its
   own committed transaction; only the lease holder calls the platform, and conversations are
   sent in order.
3. After the platform accepted it, one transaction marks it SENT and writes message.sent; after
   a permanent refusal, one transaction marks it FAILED and writes message.send_failed (and
   marks a contact who blocked the account unreachable). A later lease finds it done.
4. When the platform did not take it, the lease is given back with a `next_attempt_at`: the
   platform's `retry_after` (also shared with every instance through the rate limiter), the
   shared rate limits' wait, or exponential backoff for transient errors (FAILED after
   `max_attempts`).

Once the platform accepted a message, recording it is retried until it commits (Postgres may be
restarting), never treated as a failed send. Residual window: if the process dies after the
platform accepted a message but before step 3 commits, or Postgres stays down for the whole
lease, the lease expires and the message is sent again. VK drops the repeat (the `random_id`
is derived from the message id); Telegram, X and MAX have no idempotency key, so there the
duplicate is only made unlikely (the window is one HTTP response plus one commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta

from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import message_repository, repository
from services.social.access_tokens import AccessTokens
from services.social.crypto import CryptoError
from services.social.mapping import contact_to_proto, message_to_proto
from services.social.models import Contact, Integration, Message
from services.social.platforms.adapter import PlatformAdapter
from services.social.platforms.types import (
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    PlatformError,
    RetryLaterError,
    SentMessage,
)
from services.social.ratelimit import SendRateLimiter, SendScope

log = logging.getLogger("inbetwin.social.sending")

BACKOFF_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


class SentButUnrecordedError(Exception):
    """The platform accepted a message but recording it failed until its lease ran out."""


class OutboundSender:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        adapters: Mapping[str, PlatformAdapter],
        tokens: AccessTokens,
        limiter: SendRateLimiter,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        batch_size: int = 32,
        concurrency: int = 16,
        max_attempts: int = len(BACKOFF_SECONDS) + 1,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._adapters = adapters
        self._tokens = tokens
        self._limiter = limiter
        self._lease = lease
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._concurrency = asyncio.Semaphore(concurrency)
        self._max_attempts = max_attempts
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def notify(self) -> None:
        """Call after committing a transaction that queued messages, to send them now."""
        self._wakeup.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self.send_due()
            except Exception:
                log.exception("send queue failed; retrying")
                claimed = 0
            if claimed >= self._batch_size:
                continue
            self._wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)

    async def send_due(self) -> int:
        """Claim one batch of due messages and handle each; returns how many were claimed."""
        attempt_id = str(uuid.uuid4())
        async with self._engine.begin() as connection:
            batch = await message_repository.claim_due(
                connection, attempt_id=attempt_id, lease=self._lease, limit=self._batch_size
            )
        if batch:
            await asyncio.gather(*(self._guarded(message, attempt_id) for message in batch))
        return len(batch)

    async def _guarded(self, message: Message, attempt_id: str) -> None:
        async with self._concurrency:
            try:
                await self._send(message, attempt_id)
            except SentButUnrecordedError:
                pass  # left leased: sent again only when the lease runs out (see the module doc)
            except Exception as error:
                log.exception("send failed unexpectedly", extra={"message_id": message.id})
                await self._retry(message, attempt_id, repr(error))

    async def _send(self, message: Message, attempt_id: str) -> None:
        owner_id = message.owner_id
        async with self._engine.connect() as connection:
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=message.integration_id
            )
            contact = await repository.get_contact(
                connection, owner_id=owner_id, contact_id=message.contact_id
            )
        if integration is None or contact is None:
            return  # deleted with its integration; the message went with it
        adapter = self._adapters.get(integration.platform)
        refusal = _refusal(message, integration, contact, adapter is not None)
        if refusal or adapter is None:
            await self._fail(message, integration, contact, refusal or "platform unavailable")
            return
        scope = SendScope(integration_id=integration.id, chat_id=contact.platform_user_id)
        wait = await self._limiter.acquire(scope, adapter.limits)
        if wait > 0:
            await self._defer(message, attempt_id, wait, failed_attempt=False)
            return
        try:
            token = await self._tokens.token_for(integration)
            sent = await self._send_with(adapter, integration, token, contact, message)
        except CryptoError:
            await self._fail(message, integration, contact, "stored credentials cannot be read")
            return
        except RetryLaterError as error:
            await self._limiter.pause(scope, error.retry_after)
            await self._defer(message, attempt_id, error.retry_after, failed_attempt=False)
            return
        except (BlockedError, InvalidCredentialsError, PermanentError) as error:
            await self._fail(message, integration, contact, error.description, cause=error)
            return
        except PlatformError as error:
            await self._retry(message, attempt_id, error.description)
            return
        await self._record_accepted(message, contact, sent)

    async def _record_accepted(self, message: Message, contact: Contact, sent: SentMessage) -> None:
        """The platform has the message, so it must never go back to the queue: an error here
        (Postgres restarting) is retried while the lease keeps other workers off it."""
        deadline = asyncio.get_running_loop().time() + self._lease.total_seconds()
        delay = 0.2
        while True:
            try:
                await self._record_sent(message, contact, sent)
                return
            except Exception as error:
                if asyncio.get_running_loop().time() + delay >= deadline:
                    log.error(
                        "a sent message could not be recorded before its lease ended",
                        extra={"message_id": message.id, "error": repr(error)},
                    )
                    raise SentButUnrecordedError(message.id) from error
                log.warning(
                    "recording a sent message failed; retrying",
                    extra={"message_id": message.id, "error": repr(error)},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _send_with(
        self,
        adapter: PlatformAdapter,
        integration: Integration,
        token: str,
        contact: Contact,
        message: Message,
    ) -> SentMessage:
        try:
            return await adapter.send_text(
                token,
                recipient_id=contact.platform_user_id,
                text=message.text,
                idempotency_key=message.id,
            )
        except InvalidCredentialsError:
            if integration.platform != "x":
                raise
            # An OAuth token can be revoked before it expires: refresh once and try again.
            token = await self._tokens.refresh(integration, force=True)
            return await adapter.send_text(
                token,
                recipient_id=contact.platform_user_id,
                text=message.text,
                idempotency_key=message.id,
            )

    async def _defer(
        self, message: Message, attempt_id: str, seconds: float, *, failed_attempt: bool
    ) -> None:
        async with self._engine.begin() as connection:
            await message_repository.defer(
                connection,
                owner_id=message.owner_id,
                message_id=message.id,
                attempt_id=attempt_id,
                delay=timedelta(seconds=seconds),
                failed_attempt=failed_attempt,
            )

    async def _retry(self, message: Message, attempt_id: str, error: str) -> None:
        attempts = message.attempts + 1
        if attempts >= self._max_attempts:
            async with self._engine.begin() as connection:
                failed = await message_repository.mark_failed(
                    connection,
                    owner_id=message.owner_id,
                    message_id=message.id,
                    error=f"gave up after {attempts} attempts: {error}",
                )
                if failed is not None:
                    await _add_failure(connection, failed, permanent=False)
            self._relay.notify()
            return
        delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
        log.warning(
            "send failed, will retry",
            extra={"message_id": message.id, "attempt": attempts, "error": error},
        )
        await self._defer(message, attempt_id, delay, failed_attempt=True)

    async def _record_sent(self, message: Message, contact: Contact, sent: SentMessage) -> None:
        async with self._engine.begin() as connection:
            stored = await message_repository.mark_sent(
                connection,
                owner_id=message.owner_id,
                message_id=message.id,
                platform_message_id=sent.platform_message_id,
                platform_at=sent.sent_at,
            )
            if stored is None:
                return
            await repository.note_contact_message(
                connection, owner_id=message.owner_id, contact_id=contact.id, at=sent.sent_at
            )
            await add_event(
                connection,
                new_event(
                    social_events_pb2.MessageSent,
                    owner_id=message.owner_id,
                    event_id=deterministic_id("social.message.sent", stored.id),
                    message=message_to_proto(stored),
                    reply_id=stored.reply_id or "",
                ),
            )
        self._relay.notify()

    async def _fail(
        self,
        message: Message,
        integration: Integration,
        contact: Contact,
        error: str,
        *,
        cause: PlatformError | None = None,
    ) -> None:
        owner_id = message.owner_id
        async with self._engine.begin() as connection:
            failed = await message_repository.mark_failed(
                connection, owner_id=owner_id, message_id=message.id, error=error
            )
            if failed is None:
                return
            await _add_failure(connection, failed, permanent=True)
            if isinstance(cause, BlockedError):
                blocked = await repository.mark_contact_unreachable(
                    connection, owner_id=owner_id, contact_id=contact.id
                )
                if blocked is not None:
                    await add_event(
                        connection,
                        new_event(
                            social_events_pb2.ContactUpdated,
                            owner_id=owner_id,
                            event_id=deterministic_id("social.contact.blocked", message.id),
                            contact=contact_to_proto(
                                blocked,
                                platform=integration.platform,
                                default_contact_policy=integration.default_contact_policy,
                            ),
                            change="blocked",
                        ),
                    )
            elif isinstance(cause, InvalidCredentialsError):
                await repository.set_integration_error(
                    connection,
                    owner_id=owner_id,
                    integration_id=integration.id,
                    status="error",
                    error=f"{error}: the platform refused the stored credentials",
                )
        self._relay.notify()


def _refusal(message: Message, integration: Integration, contact: Contact, known: bool) -> str:
    """Why the message must not be sent now at all; empty when it may go."""
    if not known:
        return f"{integration.platform} is not enabled in this deployment"
    if message.author_kind == "agent" and (
        contact.agent_paused or not contact.agent_allowed(integration.default_contact_policy)
    ):
        return "not sent: the agent is paused or not allowed in this conversation"
    if not contact.reachable:
        return "contact is unreachable"
    if integration.status != "active":
        return "integration is not active"
    return ""


async def _add_failure(connection: AsyncConnection, message: Message, *, permanent: bool) -> None:
    await add_event(
        connection,
        new_event(
            social_events_pb2.MessageSendFailed,
            owner_id=message.owner_id,
            event_id=deterministic_id("social.message.send_failed", message.id),
            reply_id=message.reply_id or "",
            contact_id=message.contact_id,
            error_message=message.error_message,
            permanent=permanent,
        ),
    )

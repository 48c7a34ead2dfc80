"""Sending agent replies: the consumer of llm's reply command.

Send-once guarantee
-------------------
A reply command (`ReplyRequested`, identified by `reply_id`) may be delivered many times: NATS
redelivers until it is acked, and llm may publish it again. Each part of the reply (Telegram takes
at most 4096 characters per message) is sent at most once per `(reply_id, part)` because:

1. Before calling the platform, the part is stored PENDING in `messages` under a unique
   `(reply_id, reply_part)` with a short lease (`send_attempt_id`, `send_lease_until`), in its own
   committed transaction. Only the attempt that inserted the row, or took over an expired lease,
   may call the platform. A concurrent delivery finds the lease held and is retried later (the
   bus naks it), so it never sends in parallel.
2. After the platform accepted the part, one transaction marks it SENT with the platform's message
   id and writes message.sent to the outbox. A later delivery finds it SENT and skips it.
3. When the platform refused it for good (blocked, bad request, revoked token), one transaction
   marks it FAILED and writes message.send_failed (with a deterministic event id, so a repeat adds
   nothing); a later delivery finds it FAILED and stops.
4. When the platform did not take it (429, 5xx, network), the lease is released and the error is
   raised, so the bus redelivers with backoff; short `retry_after` waits are slept out in place.

Residual window: if the process dies after the platform accepted a part but before step 2
commits, the lease expires and a redelivery sends that part again. Telegram's Bot API has no
idempotency key, so this duplicate cannot be prevented there, only made unlikely (the window is
one HTTP response plus one commit). VK's `messages.send` takes a `random_id`; sending a value
derived from `(reply_id, part)` closes the window on VK.

Replies are dropped, not sent, when the owner paused the agent in the conversation or the contact
is no longer allowed: the owner's choice wins over a reply already being written.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from inbetwin.events.v1 import llm_events_pb2, social_events_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.bus import ConsumerSpec
from services.kit.events import deterministic_id, new_event, subject_of
from services.kit.outbox import OutboxRelay, add_event
from services.social import repository
from services.social.credentials import open_token
from services.social.crypto import CryptoError, TokenCipher
from services.social.mapping import contact_to_proto, message_to_proto
from services.social.models import Contact, Integration, Message
from services.social.platforms.telegram import TelegramClient, split_text
from services.social.platforms.types import (
    BlockedError,
    InvalidCredentialsError,
    PlatformError,
    RetryLaterError,
    SentMessage,
)

log = logging.getLogger("inbetwin.social.outbound")

REPLY_CONSUMER = ConsumerSpec(
    durable="social-send-replies",
    subjects=(subject_of(llm_events_pb2.ReplyRequested),),
)


class SendDeferredError(Exception):
    """The part was not sent now; raising it makes the bus redeliver the command later."""


class _Next(Enum):
    CONTINUE = "continue"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class _Claim:
    integration: Integration
    contact: Contact
    message: Message


class ReplySender:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        telegram: TelegramClient,
        max_inline_retry_seconds: float = 5.0,
        lease: timedelta = timedelta(seconds=60),
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._telegram = telegram
        self._max_inline_retry = max_inline_retry_seconds
        self._lease = lease
        self._sleep = sleep

    async def handle(self, command: llm_events_pb2.ReplyRequested) -> None:
        """Send one reply command (`ReplyRequested`); safe to call again with the same command."""
        reply_id = command.reply_id or command.event_id
        ids = (reply_id, command.owner_id, command.integration_id, command.contact_id)
        if not all(_is_uuid(value) for value in ids):
            log.warning("reply command with malformed ids dropped", extra={"reply_id": reply_id})
            return
        parts = split_text(command.text)
        if not parts:
            log.warning("empty reply dropped", extra={"reply_id": reply_id})
            return
        for index, text in enumerate(parts):
            if await self._send_part(command, reply_id, index, text) is _Next.STOP:
                return

    async def _send_part(
        self, command: llm_events_pb2.ReplyRequested, reply_id: str, index: int, text: str
    ) -> _Next:
        inline_waits = 3
        while True:
            attempt_id = str(uuid.uuid4())
            async with self._engine.begin() as connection:
                claim = await self._claim(connection, command, reply_id, index, text, attempt_id)
            self._relay.notify()  # the claim may have recorded a failure event
            if isinstance(claim, _Next):
                return claim
            try:
                token = open_token(self._cipher, claim.integration)
            except CryptoError:
                await self._release(claim, attempt_id)
                raise
            try:
                sent = await self._telegram.send_message(
                    token, chat_id=claim.contact.platform_user_id, text=text
                )
            except RetryLaterError as error:
                await self._release(claim, attempt_id)
                if error.retry_after <= self._max_inline_retry and inline_waits > 0:
                    inline_waits -= 1
                    await self._sleep(error.retry_after)
                    continue
                raise SendDeferredError(f"rate limited for {error.retry_after}s") from None
            except PlatformError as error:
                if error.status and 400 <= error.status < 500:
                    await self._fail(claim, reply_id, error)
                    return _Next.STOP
                await self._release(claim, attempt_id)
                raise SendDeferredError(f"platform unavailable: {error.description}") from None
            await self._record_sent(claim, reply_id, sent)
            return _Next.CONTINUE

    async def _claim(
        self,
        connection: AsyncConnection,
        command: llm_events_pb2.ReplyRequested,
        reply_id: str,
        index: int,
        text: str,
        attempt_id: str,
    ) -> _Claim | _Next:
        owner_id = command.owner_id
        existing = await repository.get_reply_part(
            connection, owner_id=owner_id, reply_id=reply_id, reply_part=index
        )
        if existing is not None and existing.status == "sent":
            return _Next.CONTINUE
        if existing is not None and existing.status == "failed":
            return _Next.STOP
        contact = await repository.get_contact(
            connection, owner_id=owner_id, contact_id=command.contact_id
        )
        integration = await repository.get_integration(
            connection, owner_id=owner_id, integration_id=command.integration_id
        )
        if contact is None or integration is None or contact.integration_id != integration.id:
            log.warning("reply for an unknown conversation dropped", extra={"reply_id": reply_id})
            return _Next.STOP
        if contact.agent_paused or not contact.agent_allowed(integration.default_contact_policy):
            log.info("reply dropped: agent paused or not allowed", extra={"reply_id": reply_id})
            return _Next.STOP
        message = await repository.claim_reply_part(
            connection,
            owner_id=owner_id,
            integration_id=integration.id,
            contact_id=contact.id,
            reply_id=reply_id,
            reply_part=index,
            text=text,
            agent_id=command.agent_id,
            in_reply_to_message_id=(
                command.in_reply_to_message_id if _is_uuid(command.in_reply_to_message_id) else None
            ),
            attempt_id=attempt_id,
            lease=self._lease,
        )
        if message is None:
            raise SendDeferredError("another attempt is sending this reply")
        if not contact.reachable or integration.status != "active":
            reason = (
                "contact is unreachable" if not contact.reachable else "integration is not active"
            )
            await self._record_failure(connection, message, reply_id, reason)
            return _Next.STOP
        return _Claim(integration, contact, message)

    async def _release(self, claim: _Claim, attempt_id: str) -> None:
        async with self._engine.begin() as connection:
            await repository.release_send(
                connection,
                owner_id=claim.message.owner_id,
                message_id=claim.message.id,
                attempt_id=attempt_id,
            )

    async def _record_sent(self, claim: _Claim, reply_id: str, sent: SentMessage) -> None:
        owner_id = claim.message.owner_id
        async with self._engine.begin() as connection:
            message = await repository.mark_sent(
                connection,
                owner_id=owner_id,
                message_id=claim.message.id,
                platform_message_id=sent.platform_message_id,
                platform_at=sent.sent_at,
            )
            if message is None:
                return
            await repository.note_contact_message(
                connection, owner_id=owner_id, contact_id=claim.contact.id, at=sent.sent_at
            )
            await add_event(
                connection,
                new_event(
                    social_events_pb2.MessageSent,
                    owner_id=owner_id,
                    event_id=deterministic_id("social.message.sent", message.id),
                    message=message_to_proto(message),
                    reply_id=reply_id,
                ),
            )
        self._relay.notify()

    async def _fail(self, claim: _Claim, reply_id: str, error: PlatformError) -> None:
        owner_id = claim.message.owner_id
        async with self._engine.begin() as connection:
            await self._record_failure(connection, claim.message, reply_id, error.description)
            if isinstance(error, BlockedError):
                contact = await repository.mark_contact_unreachable(
                    connection, owner_id=owner_id, contact_id=claim.contact.id
                )
                if contact is not None:
                    await add_event(
                        connection,
                        new_event(
                            social_events_pb2.ContactUpdated,
                            owner_id=owner_id,
                            event_id=deterministic_id("social.contact.blocked", claim.message.id),
                            contact=contact_to_proto(
                                contact,
                                platform=claim.integration.platform,
                                default_contact_policy=claim.integration.default_contact_policy,
                            ),
                            change="blocked",
                        ),
                    )
            elif isinstance(error, InvalidCredentialsError):
                await repository.set_integration_error(
                    connection,
                    owner_id=owner_id,
                    integration_id=claim.integration.id,
                    status="error",
                    error=f"{error.description}: the bot token was revoked",
                )
        self._relay.notify()

    @staticmethod
    async def _record_failure(
        connection: AsyncConnection, message: Message, reply_id: str, error: str
    ) -> None:
        await repository.mark_failed(
            connection, owner_id=message.owner_id, message_id=message.id, error=error
        )
        await add_event(
            connection,
            new_event(
                social_events_pb2.MessageSendFailed,
                owner_id=message.owner_id,
                event_id=deterministic_id("social.message.send_failed", message.id),
                reply_id=reply_id,
                contact_id=message.contact_id,
                error_message=error,
                permanent=True,
            ),
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True

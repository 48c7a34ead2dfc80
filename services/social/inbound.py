"""Receiving a webhook: verify, then store the update and its outcome in one transaction.

The platform gets its answer as soon as the transaction commits; everything slow (the agent's
reply) happens after, driven by the message.received event the same transaction wrote.

A delivery of new messages only (nearly every call) is written on a plain asyncpg pool: one
statement for the update, contact and message, one for the outbox event, in one transaction.
Anything else (contact events, the owner's own messages, VK's handshake) takes the SQLAlchemy
path, which is slower but rare.

Telegram, VK and MAX call one URL per integration and are verified with that integration's
secret. X calls one URL per app (`/webhooks/x/<x_webhook_id>`), signed with the app's consumer
secret, and each body names the account it is for (`for_user_id`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa
from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event, add_event_on_asyncpg
from services.social import contact_repository, errors, inbound_store, repository
from services.social.credentials import open_credentials
from services.social.crypto import CryptoError, TokenCipher
from services.social.mapping import (
    contact_to_proto,
    enum_value,
    integration_to_proto,
    message_to_proto,
)
from services.social.models import Integration
from services.social.platforms.adapter import PlatformAdapter, WebhookAck
from services.social.platforms.types import (
    AccountRevoked,
    ConfirmationRequest,
    ContactEvent,
    Delivery,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
    MessageRemoved,
    OwnerMessage,
    Update,
)
from services.social.webhook_targets import WebhookTargets

log = logging.getLogger("inbetwin.social.webhooks")

NOTE_EVERY_SECONDS = 5.0

_NOTE_UPDATE = """
UPDATE integrations SET last_update_at = now()
WHERE id = $1 AND (last_update_at IS NULL OR last_update_at < now() - interval '5 seconds')
"""

# Platforms whose app has one webhook for every connected account.
APP_WEBHOOK_PLATFORMS = frozenset({"x"})

# Errors meaning the database could not be reached: the platform should retry the delivery.
_STORAGE_DOWN = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    # Postgres shutting down, restarting or out of connection slots.
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    OSError,
    TimeoutError,
)


@dataclass(frozen=True, slots=True)
class AppWebhook:
    """A platform whose app has one webhook for all its accounts (X)."""

    webhook_id: str
    secret: str

    def __repr__(self) -> str:
        return f"AppWebhook(webhook_id={self.webhook_id!r})"


class WebhookReceiver:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        adapters: Mapping[str, PlatformAdapter],
        pool: asyncpg.Pool | None = None,
        app_webhooks: Mapping[str, AppWebhook],
        max_body_bytes: int,
        stale_after: timedelta,
        public_base_url: str,
        cache_seconds: float = 2.0,
    ) -> None:
        self._engine = engine
        # New messages are written here when given (see the module's docstring).
        self._pool = pool
        self._relay = relay
        self._cipher = cipher
        self._adapters = adapters
        self._app_webhooks = app_webhooks
        self._max_body_bytes = max_body_bytes
        self._stale_after = stale_after
        self._public_base_url = public_base_url
        self._targets = WebhookTargets(cipher, ttl_seconds=cache_seconds)
        # When this process last refreshed each integration's `last_update_at` (monotonic).
        self._noted: dict[str, float] = {}

    async def receive(
        self,
        *,
        platform: str,
        integration_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> WebhookAck:
        """Raises NOT_FOUND, UNAUTHENTICATED (nothing stored), INVALID_ARGUMENT or UNAVAILABLE."""
        adapter = self._adapters.get(platform)
        if adapter is None:
            raise errors.integration_not_found()
        if len(body) > self._max_body_bytes:
            raise errors.webhook_payload_invalid(f"body exceeds {self._max_body_bytes} bytes")
        try:
            if adapter.platform in APP_WEBHOOK_PLATFORMS:
                reply, wrote = await self._receive_for_app(
                    adapter, integration_id, headers, body, content_type
                )
            else:
                reply, wrote = await self._receive_for_integration(
                    adapter, integration_id, headers, body, content_type
                )
        except (sa.exc.IntegrityError, inbound_store.IntegrationGoneError):
            # The integration was deleted since it was looked up (see webhook_targets.py).
            self._targets.forget(integration_id)
            raise errors.integration_not_found() from None
        except _STORAGE_DOWN:
            log.exception("cannot store webhook update", extra={"integration_id": integration_id})
            raise errors.storage_unavailable() from None
        if wrote:
            self._relay.notify()
        return reply

    def forget(self, integration_id: str) -> None:
        """The integration changed (secret, status, mode): look it up afresh on the next call."""
        self._targets.forget(integration_id)

    async def ingest(self, integration: Integration, body: bytes) -> None:
        """Store one update fetched by polling (Telegram getUpdates) exactly as a verified webhook
        body: same parsing, de-duplication and events. Raises InvalidPayloadError or the
        storage's errors; the poller decides what to do with them."""
        adapter = self._adapters[integration.platform]
        updates = adapter.parse(body).updates
        async with self._engine.begin() as connection:
            wrote = await self._store(connection, integration, updates, body, "application/json")
        if wrote:
            self._relay.notify()

    async def _receive_for_integration(
        self,
        adapter: PlatformAdapter,
        integration_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> tuple[WebhookAck, bool]:
        target = await self._targets.find(self._engine, integration_id)
        integration = target.integration if target is not None else None
        if (
            target is None
            or integration is None
            or integration.platform != adapter.platform
            or integration.delivery_mode != "webhook"
            or integration.status == "disconnected"
        ):
            raise errors.integration_not_found()
        if not adapter.verify(
            headers, body, secret=target.secret, account_id=integration.platform_account_id
        ):
            raise errors.webhook_signature_invalid()
        updates = self._parse(adapter, body).updates
        messages = [u for u in updates if isinstance(u, InboundMessage)]
        if self._pool is not None and messages and len(messages) == len(updates):
            wrote = await self._store_messages(
                self._pool, integration, messages, body, content_type
            )
            return adapter.ack, wrote
        async with self._engine.begin() as connection:
            if any(isinstance(update, ConfirmationRequest) for update in updates):
                return await self._confirm(connection, integration)
            wrote = await self._store(connection, integration, updates, body, content_type)
        return adapter.ack, wrote

    async def _store_messages(
        self,
        pool: asyncpg.Pool,
        integration: Integration,
        messages: Sequence[InboundMessage],
        body: bytes,
        content_type: str,
    ) -> bool:
        """`_store` for a delivery of messages only, on the asyncpg pool."""
        wrote_events = False
        async with pool.acquire() as connection, connection.transaction():
            for inbound in messages:
                stored = await inbound_store.store_inbound_raw(
                    connection,
                    owner_id=integration.owner_id,
                    integration_id=integration.id,
                    dedup_key=inbound.dedup_key,
                    body=body,
                    content_type=content_type,
                    inbound=inbound,
                )
                if isinstance(stored, inbound_store.Duplicate):
                    log.info("duplicate update dropped", extra={"integration_id": integration.id})
                    continue
                if stored.message is not None:
                    await add_event_on_asyncpg(
                        connection, self._message_received(integration, inbound, stored)
                    )
                    wrote_events = True
                if self._note_due(integration.id):
                    await connection.execute(_NOTE_UPDATE, integration.id)
        return wrote_events

    async def _receive_for_app(
        self,
        adapter: PlatformAdapter,
        webhook_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> tuple[WebhookAck, bool]:
        app = self._app_webhooks.get(adapter.platform)
        if app is None or webhook_id.lower() != app.webhook_id.lower():
            raise errors.integration_not_found()
        if not adapter.verify(headers, body, secret=app.secret, account_id=""):
            raise errors.webhook_signature_invalid()
        delivery = self._parse(adapter, body)
        async with self._engine.begin() as connection:
            integration = await repository.get_integration_for_account(
                connection, platform=adapter.platform, platform_account_id=delivery.account_id
            )
            if integration is None or integration.status == "disconnected":
                # The app's webhook serves every account; this one is not (or no longer) ours.
                log.info(
                    "webhook for an unknown account dropped", extra={"platform": adapter.platform}
                )
                return adapter.ack, False
            wrote = await self._store(connection, integration, delivery.updates, body, content_type)
        return adapter.ack, wrote

    def _note_due(self, integration_id: str) -> bool:
        """Whether to refresh `last_update_at` now: at most every few seconds per process, as
        busy accounts would otherwise spend a statement per update (and queue on the row)."""
        now = time.monotonic()
        if now - self._noted.get(integration_id, -NOTE_EVERY_SECONDS) < NOTE_EVERY_SECONDS:
            return False
        if len(self._noted) > 10_000:
            self._noted.clear()
        self._noted[integration_id] = now
        return True

    async def _note_update(self, connection: AsyncConnection, integration_id: str) -> None:
        if self._note_due(integration_id):
            await repository.note_integration_update(connection, integration_id=integration_id)

    @staticmethod
    def _parse(adapter: PlatformAdapter, body: bytes) -> Delivery:
        try:
            return adapter.parse(body)
        except InvalidPayloadError as error:
            raise errors.webhook_payload_invalid(str(error)) from None

    async def _confirm(
        self, connection: AsyncConnection, integration: Integration
    ) -> tuple[WebhookAck, bool]:
        """VK's handshake: answer the confirmation string; the integration becomes ACTIVE."""
        try:
            code = open_credentials(self._cipher, integration).confirmation_code
        except CryptoError:
            log.error("credentials cannot be decrypted", extra={"integration_id": integration.id})
            raise errors.integration_not_found() from None
        wrote = False
        if integration.status == "connecting":
            self._targets.forget(integration.id)  # the status changes now
            active = await repository.update_integration(
                connection,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                values={"status": "active", "last_error": "", "last_error_at": None},
            )
            if active is not None:
                await add_event(
                    connection,
                    new_event(
                        social_events_pb2.IntegrationConnected,
                        owner_id=integration.owner_id,
                        event_id=deterministic_id("social.integration.connected", integration.id),
                        integration=integration_to_proto(
                            active, public_base_url=self._public_base_url
                        ),
                    ),
                )
                wrote = True
        return WebhookAck(content_type="text/plain", body=code.encode()), wrote

    async def _store(
        self,
        connection: AsyncConnection,
        integration: Integration,
        updates: Sequence[Update],
        body: bytes,
        content_type: str,
    ) -> bool:
        wrote_events = False
        for update in updates:
            if isinstance(update, InboundMessage):
                stored = await inbound_store.store_inbound(
                    connection,
                    owner_id=integration.owner_id,
                    integration_id=integration.id,
                    dedup_key=update.dedup_key,
                    body=body,
                    content_type=content_type,
                    inbound=update,
                )
                if isinstance(stored, inbound_store.Duplicate):
                    log.info("duplicate update dropped", extra={"integration_id": integration.id})
                    continue
                if stored.message is not None:
                    await add_event(connection, self._message_received(integration, update, stored))
                    wrote_events = True
            elif await repository.record_webhook_update(
                connection,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                dedup_key=update.dedup_key,
                body=body,
                content_type=content_type,
                outcome=_outcome(update),
            ):
                wrote_events |= await self._apply(connection, integration, update)
            else:
                log.info("duplicate update dropped", extra={"integration_id": integration.id})
                continue
            await self._note_update(connection, integration.id)
        return wrote_events

    async def _apply(
        self, connection: AsyncConnection, cached: Integration, update: Update
    ) -> bool:
        """Apply a verified update that is not a message; whether it wrote events. These are
        rare, so the integration is read afresh (its default policy shapes the event)."""
        integration = await repository.get_integration_for_webhook(
            connection, integration_id=cached.id
        )
        if integration is None:
            return False
        if isinstance(update, ContactEvent):
            return await self._store_contact_event(connection, integration, update)
        if isinstance(update, OwnerMessage):
            return await self._store_owner_message(connection, integration, update)
        if isinstance(update, AccountRevoked):
            return await self._disconnect(connection, integration)
        if isinstance(update, MessageRemoved):
            await repository.mark_message_deleted(
                connection,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                dedup_key=f"{update.chat_id}:{update.platform_message_id}",
            )
        return False

    def _message_received(
        self,
        integration: Integration,
        inbound: InboundMessage,
        stored: inbound_store.Stored,
    ) -> social_events_pb2.MessageReceived:
        contact, message = stored.contact, stored.message
        assert message is not None
        policy = stored.default_contact_policy
        written_at = inbound.edited_at or inbound.sent_at
        stale = datetime.now(UTC) - written_at > self._stale_after
        # An edit updates the stored message and is announced, but is not a new turn to answer.
        may_reply = (
            contact.agent_allowed(policy)
            and contact.reachable
            and not contact.agent_paused
            and not inbound.edited
        )
        return new_event(
            social_events_pb2.MessageReceived,
            owner_id=integration.owner_id,
            event_id=deterministic_id(integration.id, inbound.dedup_key),
            message=message_to_proto(message),
            contact=contact_to_proto(
                contact, platform=integration.platform, default_contact_policy=policy
            ),
            platform=enum_value("PLATFORM", integration.platform),
            agent_may_reply=may_reply,
            stale=stale,
        )

    async def _store_owner_message(
        self, connection: AsyncConnection, integration: Integration, written: OwnerMessage
    ) -> bool:
        """The owner wrote in the platform's own app: keep it in the history and pause the
        agent in that conversation, as SendMessage does, so it never talks over a human."""
        contact = await repository.upsert_contact(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            profile=written.recipient,
            reachable=None,
            message_at=written.sent_at,
        )
        message = await repository.store_owner_message(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            contact_id=contact.id,
            message=written,
        )
        if message is None:
            return False
        await add_event(
            connection,
            new_event(
                social_events_pb2.MessageSent,
                owner_id=integration.owner_id,
                event_id=deterministic_id("social.message.sent", message.id),
                message=message_to_proto(message),
            ),
        )
        paused = await contact_repository.set_agent_paused(
            connection, owner_id=integration.owner_id, contact_id=contact.id, paused=True
        )
        if paused is not None:
            await add_event(
                connection,
                new_event(
                    social_events_pb2.ContactUpdated,
                    owner_id=integration.owner_id,
                    event_id=deterministic_id(integration.id, written.dedup_key, "paused"),
                    contact=contact_to_proto(
                        paused,
                        platform=integration.platform,
                        default_contact_policy=integration.default_contact_policy,
                    ),
                    change="agent_paused",
                ),
            )
        return True

    async def _disconnect(self, connection: AsyncConnection, integration: Integration) -> bool:
        """The platform ended the connection: DISCONNECTED until the owner reconnects."""
        await repository.set_integration_error(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            status="disconnected",
            error="the account withdrew the app's access; reconnect it",
        )
        await add_event(
            connection,
            new_event(
                social_events_pb2.IntegrationDisconnected,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                reason="platform_revoked",
            ),
        )
        return True

    async def _store_contact_event(
        self, connection: AsyncConnection, integration: Integration, event: ContactEvent
    ) -> bool:
        contact = await repository.upsert_contact(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            profile=event.sender,
            reachable=event.change == "unblocked",
            message_at=None,
        )
        await add_event(
            connection,
            new_event(
                social_events_pb2.ContactUpdated,
                owner_id=integration.owner_id,
                event_id=deterministic_id(integration.id, event.dedup_key),
                contact=contact_to_proto(
                    contact,
                    platform=integration.platform,
                    default_contact_policy=integration.default_contact_policy,
                ),
                change=event.change,
            ),
        )
        return True


def _outcome(update: Update) -> str:
    if isinstance(update, OwnerMessage):
        return "owner message"
    if isinstance(update, AccountRevoked):
        return "revoked"
    if isinstance(update, Ignored):
        return f"ignored: {update.reason}"
    if isinstance(update, ContactEvent):
        return f"contact: {update.change}"
    if isinstance(update, MessageRemoved):
        return "removed"
    if isinstance(update, InboundMessage):
        return "edit" if update.edited else "message"
    return "confirmation"

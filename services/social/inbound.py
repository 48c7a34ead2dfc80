"""Receiving a webhook: verify, then store the update and its outcome in one transaction.

The platform gets its answer as soon as the transaction commits; everything slow (the agent's
reply) happens after, driven by the message.received event the same transaction wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import errors, repository
from services.social.credentials import open_webhook_secret
from services.social.crypto import CryptoError, TokenCipher
from services.social.mapping import contact_to_proto, message_to_proto
from services.social.models import Integration
from services.social.platforms import telegram
from services.social.platforms.types import (
    ContactEvent,
    Ignored,
    InboundMessage,
    InvalidPayloadError,
)

log = logging.getLogger("inbetwin.social.webhooks")

# Errors meaning the database could not be reached: the platform should retry the delivery.
_STORAGE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, OSError, TimeoutError)


class WebhookReceiver:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        max_body_bytes: int,
        stale_after: timedelta,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._max_body_bytes = max_body_bytes
        self._stale_after = stale_after

    async def receive(
        self,
        *,
        platform: str,
        integration_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> None:
        """Raises NOT_FOUND, UNAUTHENTICATED (nothing stored), INVALID_ARGUMENT or UNAVAILABLE."""
        if platform != "telegram":
            raise errors.integration_not_found()  # no other platform receives webhooks yet
        try:
            async with self._engine.begin() as connection:
                wrote_events = await self._receive_telegram(
                    connection,
                    integration_id=integration_id,
                    headers=headers,
                    body=body,
                    content_type=content_type,
                )
        except _STORAGE_DOWN:
            log.exception("cannot store webhook update", extra={"integration_id": integration_id})
            raise errors.storage_unavailable() from None
        if wrote_events:
            self._relay.notify()

    async def _receive_telegram(
        self,
        connection: AsyncConnection,
        *,
        integration_id: str,
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> bool:
        integration = await repository.get_integration_for_webhook(
            connection, integration_id=integration_id
        )
        if (
            integration is None
            or integration.platform != "telegram"
            or integration.delivery_mode != "webhook"
            or integration.status == "disconnected"
        ):
            raise errors.integration_not_found()
        if not telegram.verify(headers, self._webhook_secret(integration)):
            raise errors.webhook_signature_invalid()
        if len(body) > self._max_body_bytes:
            raise errors.webhook_payload_invalid(f"body exceeds {self._max_body_bytes} bytes")
        try:
            update = telegram.parse_update(body)
        except InvalidPayloadError as error:
            raise errors.webhook_payload_invalid(str(error)) from None

        if isinstance(update, Ignored):
            outcome = f"ignored: {update.reason}"
        elif isinstance(update, ContactEvent):
            outcome = f"contact: {update.change}"
        else:
            outcome = "edit" if update.edited else "message"
        stored = await repository.record_webhook_update(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            dedup_key=update.dedup_key,
            body=body,
            content_type=content_type,
            outcome=outcome,
        )
        if not stored:
            log.info("duplicate update dropped", extra={"integration_id": integration.id})
            return False
        await repository.note_integration_update(connection, integration_id=integration.id)
        if isinstance(update, InboundMessage):
            return await self._store_message(connection, integration, update)
        if isinstance(update, ContactEvent):
            return await self._store_contact_event(connection, integration, update)
        return False

    def _webhook_secret(self, integration: Integration) -> str:
        try:
            return open_webhook_secret(self._cipher, integration) or ""
        except CryptoError:
            log.error(
                "webhook secret cannot be decrypted", extra={"integration_id": integration.id}
            )
            return ""

    async def _store_message(
        self, connection: AsyncConnection, integration: Integration, inbound: InboundMessage
    ) -> bool:
        contact = await repository.upsert_contact(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            profile=inbound.sender,
            reachable=True,  # whoever writes can be written to
            message_at=inbound.sent_at,
        )
        message = await repository.store_inbound_message(
            connection,
            owner_id=integration.owner_id,
            integration_id=integration.id,
            contact_id=contact.id,
            inbound=inbound,
        )
        if message is None:
            return False
        written_at = inbound.edited_at or inbound.sent_at
        stale = datetime.now(UTC) - written_at > self._stale_after
        # An edit updates the stored message and is announced, but is not a new turn to answer.
        may_reply = (
            contact.agent_allowed(integration.default_contact_policy)
            and contact.reachable
            and not contact.agent_paused
            and not inbound.edited
        )
        await add_event(
            connection,
            new_event(
                social_events_pb2.MessageReceived,
                owner_id=integration.owner_id,
                event_id=deterministic_id(integration.id, inbound.dedup_key),
                message=message_to_proto(message),
                contact=contact_to_proto(
                    contact,
                    platform=integration.platform,
                    default_contact_policy=integration.default_contact_policy,
                ),
                platform=integration_pb2.PLATFORM_TELEGRAM,
                agent_may_reply=may_reply,
                stale=stale,
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

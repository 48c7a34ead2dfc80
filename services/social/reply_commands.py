"""The consumer of llm's reply command: checks the conversation and queues the reply's parts.

Queuing is idempotent on (`reply_id`, part), so a command delivered twice (a NATS redelivery,
or llm publishing it again) queues once and so sends once; the send queue (`sending.py`) does
the rest. A reply is dropped, not queued, when the owner paused the agent in the conversation
or the contact is not allowed: the owner's choice wins over a reply already being written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping

from inbetwin.events.v1 import llm_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import ConsumerSpec
from services.kit.events import subject_of
from services.social import message_repository, repository
from services.social.platforms.adapter import PlatformAdapter
from services.social.platforms.text import split_text

log = logging.getLogger("inbetwin.social.replies")

REPLY_CONSUMER = ConsumerSpec(
    durable="social-send-replies",
    subjects=(subject_of(llm_events_pb2.ReplyRequested),),
)


class ReplyCommands:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        adapters: Mapping[str, PlatformAdapter],
        on_queued: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._adapters = adapters
        self._on_queued = on_queued

    async def handle(self, command: llm_events_pb2.ReplyRequested) -> None:
        """Queue one reply command; safe to call again with the same command."""
        reply_id = command.reply_id or command.event_id
        ids = (reply_id, command.owner_id, command.integration_id, command.contact_id)
        if not all(_is_uuid(value) for value in ids):
            log.warning("reply command with malformed ids dropped", extra={"reply_id": reply_id})
            return
        owner_id = command.owner_id
        async with self._engine.begin() as connection:
            contact = await repository.get_contact(
                connection, owner_id=owner_id, contact_id=command.contact_id
            )
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=command.integration_id
            )
            if contact is None or integration is None or contact.integration_id != integration.id:
                log.warning(
                    "reply for an unknown conversation dropped", extra={"reply_id": reply_id}
                )
                return
            if contact.agent_paused or not contact.agent_allowed(
                integration.default_contact_policy
            ):
                log.info("reply dropped: agent paused or not allowed", extra={"reply_id": reply_id})
                return
            adapter = self._adapters.get(integration.platform)
            parts = split_text(command.text, adapter.max_text_units) if adapter else []
            if not parts:
                log.warning("empty or undeliverable reply dropped", extra={"reply_id": reply_id})
                return
            added = await message_repository.enqueue_reply_parts(
                connection,
                owner_id=owner_id,
                integration_id=integration.id,
                contact_id=contact.id,
                reply_id=reply_id,
                parts=parts,
                agent_id=command.agent_id,
                in_reply_to_message_id=(
                    command.in_reply_to_message_id
                    if _is_uuid(command.in_reply_to_message_id)
                    else None
                ),
            )
        if added:
            self._on_queued()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True

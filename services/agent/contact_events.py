"""social's `contact.updated`: a message the owner wrote by hand (`agent_paused`) opens a
handoff, ResumeAgent (`agent_resumed`) resolves it. Idempotent through the inbox, and stale
events never undo a newer decision."""

from __future__ import annotations

from datetime import UTC

from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.handoffs import HandoffRequest, Handoffs
from services.kit.bus import ConsumerSpec
from services.kit.events import subject_of
from services.kit.outbox import OutboxRelay, claim_event

CONSUMER = ConsumerSpec(
    durable="agent-contact-updates",
    subjects=[subject_of(social_events_pb2.ContactUpdated)],
)
PAUSED = "agent_paused"
RESUMED = "agent_resumed"


class ContactEvents:
    def __init__(self, engine: AsyncEngine, relay: OutboxRelay, handoffs: Handoffs) -> None:
        self._engine = engine
        self._relay = relay
        self._handoffs = handoffs

    async def handle(self, event: social_events_pb2.ContactUpdated) -> None:
        if event.change not in (PAUSED, RESUMED):
            return
        contact = event.contact
        occurred = event.occur_time.ToDatetime(tzinfo=UTC)
        changed: tuple[handoff_pb2.Handoff | None] | None = None
        async with self._engine.begin() as conn:
            if not await claim_event(conn, CONSUMER.durable, event.event_id):
                return
            if event.change == PAUSED:
                paused_at = (
                    contact.agent_pause_time.ToDatetime(tzinfo=UTC)
                    if contact.HasField("agent_pause_time")
                    else occurred
                )
                last_resolved = await self._handoffs.last_resolve_time(
                    conn, owner_id=event.owner_id, contact_id=contact.id
                )
                if last_resolved is not None and last_resolved >= paused_at:
                    return  # the owner handed it back after this pause
                handoff, created = await self._handoffs.open(
                    HandoffRequest(
                        owner_id=event.owner_id,
                        integration_id=contact.integration_id,
                        contact_id=contact.id,
                        requested_by=handoff_pb2.HANDOFF_REQUESTER_OWNER_MESSAGE,
                        reason="the owner wrote to the contact by hand",
                    ),
                    conn,
                )
                changed = (handoff,) if created else None
            else:
                resolved = await self._handoffs.resolve_open(
                    conn, owner_id=event.owner_id, contact_id=contact.id, opened_before=occurred
                )
                changed = (None,) if resolved is not None else None
        if changed is not None:
            await self._handoffs.cache(event.owner_id, contact.id, changed[0])
            self._relay.notify()

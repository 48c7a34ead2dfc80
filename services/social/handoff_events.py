"""The agent's handoffs, mirrored into the conversation: while a handoff is open the contact's
`agent_paused` is set (so message.received says the agent may not reply), and once every
handoff of the contact is resolved it is cleared.

Each handoff is one row (`handoffs`), so the consumers are idempotent and the two events may
arrive in either order: a `requested` that comes after its `resolved` finds the row resolved and
changes nothing. The change is published as ContactUpdated with `handoff_opened` /
`handoff_resolved`, not `agent_paused` / `agent_resumed`, which the agent reads as the owner's
own decision and would answer with a handoff of its own.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import agent_events_pb2, social_events_pb2
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.bus import ConsumerSpec
from services.kit.events import deterministic_id, new_event, subject_of
from services.kit.outbox import OutboxRelay, add_event
from services.social import contact_repository
from services.social.mapping import contact_to_proto
from services.social.tables import handoffs

log = logging.getLogger("inbetwin.social.handoffs")

REQUESTED_CONSUMER = ConsumerSpec(
    durable="social-handoff-requested",
    subjects=(subject_of(agent_events_pb2.HandoffRequested),),
)
RESOLVED_CONSUMER = ConsumerSpec(
    durable="social-handoff-resolved",
    subjects=(subject_of(agent_events_pb2.HandoffResolved),),
)
OPENED = "handoff_opened"
RESOLVED = "handoff_resolved"


class HandoffMirror:
    def __init__(self, *, engine: AsyncEngine, relay: OutboxRelay) -> None:
        self._engine = engine
        self._relay = relay

    async def requested(self, event: agent_events_pb2.HandoffRequested) -> None:
        await self._apply(event.event_id, event.owner_id, event.handoff, resolved=False)

    async def resolved(self, event: agent_events_pb2.HandoffResolved) -> None:
        await self._apply(event.event_id, event.owner_id, event.handoff, resolved=True)

    async def _apply(
        self, event_id: str, owner_id: str, handoff: handoff_pb2.Handoff, *, resolved: bool
    ) -> None:
        if not all(_is_uuid(value) for value in (owner_id, handoff.id, handoff.contact_id)):
            log.warning("handoff event with malformed ids dropped", extra={"event_id": event_id})
            return
        async with self._engine.begin() as connection:
            if not await _record(connection, owner_id, handoff, resolved=resolved):
                return  # a redelivery, or a request older than its resolution
            if resolved and await _still_open(connection, owner_id, handoff.contact_id):
                return
            changed = await contact_repository.set_agent_paused(
                connection, owner_id=owner_id, contact_id=handoff.contact_id, paused=not resolved
            )
            if changed is None:
                return  # unknown to this owner, or already in that state
            view = await contact_repository.get_contact_view(
                connection, owner_id=owner_id, contact_id=changed.id
            )
            assert view is not None
            await add_event(
                connection,
                new_event(
                    social_events_pb2.ContactUpdated,
                    owner_id=owner_id,
                    event_id=deterministic_id("social.contact.handoff", event_id),
                    contact=contact_to_proto(
                        changed,
                        platform=view.platform,
                        default_contact_policy=view.default_contact_policy,
                    ),
                    change=RESOLVED if resolved else OPENED,
                ),
            )
        self._relay.notify()


async def _record(
    connection: AsyncConnection, owner_id: str, handoff: handoff_pb2.Handoff, *, resolved: bool
) -> bool:
    """Whether this event changes what social knows of the handoff."""
    statement = insert(handoffs).values(
        id=handoff.id, owner_id=owner_id, contact_id=handoff.contact_id, resolved=resolved
    )
    if resolved:
        statement = statement.on_conflict_do_update(
            index_elements=[handoffs.c.id],
            set_={"resolved": True, "updated_at": sa.func.now()},
            where=sa.and_(handoffs.c.owner_id == owner_id, handoffs.c.resolved.is_(False)),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=[handoffs.c.id])
    result = await connection.execute(statement.returning(handoffs.c.id))
    return result.first() is not None


async def _still_open(connection: AsyncConnection, owner_id: str, contact_id: str) -> bool:
    """Another handoff of the contact is open (its resolution has not come yet)."""
    found = await connection.execute(
        sa.select(handoffs.c.id)
        .where(
            handoffs.c.owner_id == owner_id,
            handoffs.c.contact_id == contact_id,
            handoffs.c.resolved.is_(False),
        )
        .limit(1)
    )
    return found.first() is not None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

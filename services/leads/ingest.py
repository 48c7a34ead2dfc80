"""The bus consumers: each event is recorded as signal state, then the contact's lead recomputed.

Idempotent: the event is claimed (`claim_event`) in the transaction that records its effect, so a
redelivery does nothing; and the state is keyed by message, snapshot and handoff ids, so the same
message reaching us under another event id is stored once. Order-independent: each signal keeps
its latest version by its own timestamp, and the lead is recomputed from the whole state. Events
for contacts without any message yet are recorded and count once the first message arrives.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import agent_events_pb2, llm_events_pb2, social_events_pb2
from inbetwin.social.v1 import contact_pb2, integration_pb2, message_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.bus import ConsumerSpec, EventBus
from services.kit.events import subject_of
from services.kit.outbox import OutboxRelay, claim_event
from services.leads import repository
from services.leads.changes import Cause, refresh_contact
from services.leads.signals import (
    Assessment,
    Author,
    FactSnapshot,
    Handoff,
    HandoffRequester,
    Message,
)

log = logging.getLogger("inbetwin.leads.ingest")

Clock = Callable[[], datetime]
Record = Callable[[AsyncConnection], Awaitable[None]]

_REQUESTERS = {
    handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL: HandoffRequester.AGENT_TOOL,
    handoff_pb2.HANDOFF_REQUESTER_OWNER_MESSAGE: HandoffRequester.OWNER_MESSAGE,
    handoff_pb2.HANDOFF_REQUESTER_OWNER_MANUAL: HandoffRequester.OWNER_MANUAL,
    handoff_pb2.HANDOFF_REQUESTER_GUARDRAIL: HandoffRequester.GUARDRAIL,
}
_AUTHORS = {
    message_pb2.AUTHOR_KIND_AGENT: Author.AGENT,
    message_pb2.AUTHOR_KIND_OWNER: Author.OWNER,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Target:
    """Whose lead an event changes, with ids in canonical form (they key locks and rows)."""

    consumer: str
    event_id: str
    owner_id: str
    contact_id: str

    @classmethod
    def of(cls, consumer: str, event_id: str, owner_id: str, contact_id: str) -> _Target:
        return cls(consumer, *(_canonical(v) for v in (event_id, owner_id, contact_id)))


class SignalIngest:
    """Handlers for every event leads consumes; `subscribe` starts their consumers."""

    def __init__(self, engine: AsyncEngine, relay: OutboxRelay, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._relay = relay
        self._clock = clock

    def subscribe(self, bus: EventBus) -> None:
        bus.consume(
            _spec("message-received", social_events_pb2.MessageReceived),
            social_events_pb2.MessageReceived,
            self.on_message_received,
        )
        bus.consume(
            _spec("message-sent", social_events_pb2.MessageSent),
            social_events_pb2.MessageSent,
            self.on_message_sent,
        )
        bus.consume(
            _spec("contact-updated", social_events_pb2.ContactUpdated),
            social_events_pb2.ContactUpdated,
            self.on_contact_updated,
        )
        bus.consume(
            _spec("user-info-saved", agent_events_pb2.UserInfoSaved),
            agent_events_pb2.UserInfoSaved,
            self.on_user_info_saved,
        )
        bus.consume(
            _spec("inbound-assessed", llm_events_pb2.InboundAssessed),
            llm_events_pb2.InboundAssessed,
            self.on_inbound_assessed,
        )
        bus.consume(
            _spec("handoff-requested", agent_events_pb2.HandoffRequested),
            agent_events_pb2.HandoffRequested,
            self.on_handoff,
        )
        bus.consume(
            _spec("handoff-resolved", agent_events_pb2.HandoffResolved),
            agent_events_pb2.HandoffResolved,
            self.on_handoff,
        )

    async def on_message_received(self, event: social_events_pb2.MessageReceived) -> None:
        message = event.message
        contact_id = message.contact_id or event.contact.id
        target = _Target.of("leads-message-received", event.event_id, event.owner_id, contact_id)
        occurred = _time(event.occur_time, self._clock())

        async def record(conn: AsyncConnection) -> None:
            if event.contact.id == contact_id:
                await _store_profile(conn, target, event.contact, event.platform, occurred)
            await _store_message(conn, target, message, inbound=True, fallback=occurred)

        await self._handle(target, record, Cause.CONVERSATION, ids=(message.id,))

    async def on_message_sent(self, event: social_events_pb2.MessageSent) -> None:
        message = event.message
        target = _Target.of(
            "leads-message-sent", event.event_id, event.owner_id, message.contact_id
        )
        occurred = _time(event.occur_time, self._clock())

        async def record(conn: AsyncConnection) -> None:
            await _store_message(conn, target, message, inbound=False, fallback=occurred)

        await self._handle(target, record, Cause.CONVERSATION, ids=(message.id,))

    async def on_contact_updated(self, event: social_events_pb2.ContactUpdated) -> None:
        contact = event.contact
        target = _Target.of("leads-contact-updated", event.event_id, event.owner_id, contact.id)
        occurred = _time(event.occur_time, self._clock())

        async def record(conn: AsyncConnection) -> None:
            await _store_profile(conn, target, contact, contact.platform, occurred)

        await self._handle(target, record, Cause.CONTACT_UPDATED)

    async def on_user_info_saved(self, event: agent_events_pb2.UserInfoSaved) -> None:
        target = _Target.of(
            "leads-user-info-saved", event.event_id, event.owner_id, event.contact_id
        )
        snapshot = FactSnapshot(
            event_id=event.event_id,
            facts={str(k).strip().lower(): str(v) for k, v in event.facts.items()},
            source_message_id=event.source_message_id,
            saved_at=_time(event.occur_time, self._clock()),
        )

        async def record(conn: AsyncConnection) -> None:
            await repository.insert_fact_snapshot(
                conn, owner_id=target.owner_id, contact_id=target.contact_id, snapshot=snapshot
            )

        await self._handle(target, record, Cause.FACT_SAVED)

    async def on_inbound_assessed(self, event: llm_events_pb2.InboundAssessed) -> None:
        target = _Target.of(
            "leads-inbound-assessed", event.event_id, event.owner_id, event.contact_id
        )
        assessment = Assessment(
            message_id=event.message_id,
            sentiment=max(-1.0, min(1.0, event.sentiment)),
            intents=tuple(sorted({i.strip().lower() for i in event.intents if i.strip()})),
            assessed_at=_time(event.occur_time, self._clock()),
        )

        async def record(conn: AsyncConnection) -> None:
            await repository.upsert_assessment(
                conn, owner_id=target.owner_id, contact_id=target.contact_id, assessment=assessment
            )

        await self._handle(target, record, Cause.CONVERSATION, ids=(event.message_id,))

    async def on_handoff(
        self, event: agent_events_pb2.HandoffRequested | agent_events_pb2.HandoffResolved
    ) -> None:
        handoff = event.handoff
        resolved = isinstance(event, agent_events_pb2.HandoffResolved)
        consumer = "leads-handoff-resolved" if resolved else "leads-handoff-requested"
        target = _Target.of(consumer, event.event_id, event.owner_id, handoff.contact_id)
        occurred = _time(event.occur_time, self._clock())
        resolve_time = None
        if resolved or handoff.state == handoff_pb2.HANDOFF_STATE_RESOLVED:
            resolve_time = _time(handoff.resolve_time, occurred)
        signal = Handoff(
            handoff_id=handoff.id,
            requested_by=_REQUESTERS.get(handoff.requested_by, HandoffRequester.UNKNOWN),
            reason=handoff.reason,
            opened_at=_time(handoff.create_time, occurred),
            resolved_at=resolve_time,
        )

        async def record(conn: AsyncConnection) -> None:
            await repository.upsert_handoff(
                conn, owner_id=target.owner_id, contact_id=target.contact_id, handoff=signal
            )

        await self._handle(target, record, Cause.HANDOFF, ids=(handoff.id,))

    async def _handle(
        self, target: _Target, record: Record, cause: Cause, ids: tuple[str, ...] = ()
    ) -> None:
        if not all(
            _is_uuid(v) for v in (target.event_id, target.owner_id, target.contact_id, *ids)
        ):
            log.warning(
                "event with malformed ids dropped",
                extra={"consumer": target.consumer, "event_id": target.event_id},
            )
            return
        async with self._engine.begin() as conn:
            if not await claim_event(conn, target.consumer, target.event_id):
                return
            await repository.lock_contact(
                conn, owner_id=target.owner_id, contact_id=target.contact_id
            )
            await record(conn)
            change = await refresh_contact(
                conn,
                owner_id=target.owner_id,
                contact_id=target.contact_id,
                cause=cause,
                now=self._clock(),
            )
        if change is not None:
            self._relay.notify()


# Handlers of one contact queue on its lock while holding a database connection: a few at a time
# per event type keeps the pool (10 + 10 overflow) free for the RPCs. Scale out with instances.
CONSUMER_CONCURRENCY = 2


def _spec(name: str, event_type: Any) -> ConsumerSpec:
    return ConsumerSpec(
        durable=f"leads-{name}",
        subjects=(subject_of(event_type),),
        batch=32,
        concurrency=CONSUMER_CONCURRENCY,
    )


async def _store_profile(
    conn: AsyncConnection,
    target: _Target,
    contact: contact_pb2.Contact,
    platform: int,
    at: datetime,
) -> None:
    await repository.upsert_contact_profile(
        conn,
        owner_id=target.owner_id,
        contact_id=target.contact_id,
        integration_id=_uuid_or_empty(contact.integration_id),
        platform=platform_name(platform or contact.platform),
        display_name=(contact.display_name or contact.platform_display_name).strip()[:100],
        at=at,
    )


async def _store_message(
    conn: AsyncConnection,
    target: _Target,
    message: message_pb2.Message,
    *,
    inbound: bool,
    fallback: datetime,
) -> None:
    sent_at = _time(message.platform_time, _time(message.create_time, fallback))
    revised_at = _time(message.edit_time, sent_at) if message.edited else sent_at
    await repository.upsert_message(
        conn,
        owner_id=target.owner_id,
        contact_id=target.contact_id,
        integration_id=_uuid_or_empty(message.integration_id),
        message=Message(
            message_id=message.id,
            inbound=inbound,
            author=Author.CONTACT if inbound else _AUTHORS.get(message.author_kind, Author.AGENT),
            text=message.text,
            sent_at=sent_at,
        ),
        revised_at=revised_at,
    )


def platform_name(platform: int) -> str:
    if platform == integration_pb2.PLATFORM_UNSPECIFIED:
        return ""
    name: str = integration_pb2.Platform.Name(platform)
    return name.removeprefix("PLATFORM_").lower()


def _time(value: Timestamp, fallback: datetime) -> datetime:
    if value.seconds == 0 and value.nanos == 0:
        return fallback
    return value.ToDatetime(tzinfo=UTC)


def _canonical(value: str) -> str:
    return str(uuid.UUID(value)) if _is_uuid(value) else value


def _uuid_or_empty(value: str) -> str:
    return str(uuid.UUID(value)) if _is_uuid(value) else ""


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

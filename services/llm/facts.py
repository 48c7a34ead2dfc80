"""Keeps the contacts' saved facts (from the agent service's user_info.saved events) so the
reply context can include them without a call per reply."""

from __future__ import annotations

from inbetwin.events.v1 import agent_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.outbox import claim_event
from services.llm import repository

FACTS_CONSUMER = "llm-contact-facts"


class FactsRecorder:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def handle(self, event: agent_events_pb2.UserInfoSaved) -> None:
        async with self._engine.begin() as conn:
            if not await claim_event(conn, FACTS_CONSUMER, event.event_id):
                return
            await repository.save_facts(
                conn, owner_id=event.owner_id, contact_id=event.contact_id, facts=event.facts
            )

"""The reply pipeline's first step: answer each inbound message once, with a reply command.

The reply id is derived from the inbound message id, and the command is written to the outbox
in the same transaction that records the event as processed, so a redelivered or replayed
message.received never produces a second reply.

The reply itself is a fixed acknowledgement for now: the context, model calls and guardrails
of the llm issue replace `compose_reply`.
"""

from __future__ import annotations

import logging

from inbetwin.events.v1 import llm_events_pb2, social_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event, claim_event

log = logging.getLogger("inbetwin.llm.replies")

CONSUMER = "llm-answer-messages"
PLACEHOLDER_REPLY = "Thank you for your message! We will get back to you shortly."


def compose_reply(event: social_events_pb2.MessageReceived) -> str:
    return PLACEHOLDER_REPLY


class ReplyPipeline:
    def __init__(self, engine: AsyncEngine, relay: OutboxRelay) -> None:
        self._engine = engine
        self._relay = relay

    async def handle(self, event: social_events_pb2.MessageReceived) -> None:
        async with self._engine.begin() as conn:
            if not await claim_event(conn, CONSUMER, event.event_id):
                return
            if not event.agent_may_reply or event.stale or not event.message.text:
                log.info(
                    "not answering",
                    extra={
                        "message_id": event.message.id,
                        "may_reply": event.agent_may_reply,
                        "stale": event.stale,
                    },
                )
                return
            reply_id = deterministic_id("reply", event.message.id)
            await add_event(
                conn,
                new_event(
                    llm_events_pb2.ReplyRequested,
                    event_id=reply_id,
                    owner_id=event.owner_id,
                    reply_id=reply_id,
                    integration_id=event.message.integration_id,
                    contact_id=event.message.contact_id,
                    in_reply_to_message_id=event.message.id,
                    text=compose_reply(event),
                ),
            )
        self._relay.notify()

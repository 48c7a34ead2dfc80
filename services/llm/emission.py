"""The end of a reply: one transaction that claims the answered message's event, checks that
no newer message superseded the reply, writes the reply command to the outbox (its id derived
from the answered message id), closes the burst and counts usage. Whatever is redelivered or
restarted, at most one reply command per answered message is ever written; a crash before the
commit leaves everything for the redelivery to do once."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from inbetwin.events.v1 import llm_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import add_event, claim_event
from services.llm import repository
from services.llm.gating import period_of
from services.llm.repository import InboundRow

REPLY_CONSUMER = "llm-answer-messages"


class Outcome(enum.Enum):
    SENT = "sent"
    CLOSED = "closed"  # not answered (escalated, suppressed, skipped); burst closed
    SUPERSEDED = "superseded"
    DUPLICATE = "duplicate"


def reply_id_for(message_id: str) -> str:
    return deterministic_id("reply", message_id)


@dataclass(frozen=True, slots=True)
class Closing:
    """How a burst ends: `text` to send (empty: nothing is sent) or the status to close with."""

    text: str
    status: str
    reason: str = ""
    agent_id: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    # False once the burst reached its maximum length: a newer message then starts the next
    # burst instead of dropping this reply.
    supersedable: bool = True


async def close_burst(
    engine: AsyncEngine, *, newest: InboundRow, burst: Sequence[InboundRow], closing: Closing
) -> Outcome:
    async with engine.begin() as conn:
        if not await claim_event(conn, REPLY_CONSUMER, newest.event_id):
            return Outcome.DUPLICATE
        current = await repository.get_inbound(
            conn, owner_id=newest.owner_id, message_id=newest.message_id, lock=True
        )
        if current is None or current.status not in repository.OPEN:
            return Outcome.DUPLICATE
        period = period_of(datetime.now(UTC))
        superseded = (
            bool(closing.text) and closing.supersedable and await repository.has_newer(conn, newest)
        )
        if closing.input_tokens or closing.output_tokens or (closing.text and not superseded):
            # The tokens were spent either way; a message counts only when answered.
            await repository.add_usage(
                conn,
                owner_id=newest.owner_id,
                period=period,
                agent_id=closing.agent_id,
                input_tokens=closing.input_tokens,
                output_tokens=closing.output_tokens,
                messages_answered=1 if closing.text and not superseded else 0,
            )
        if superseded:
            return Outcome.SUPERSEDED
        message_ids = [row.message_id for row in burst]
        if not closing.text:
            await repository.close_burst(
                conn,
                owner_id=newest.owner_id,
                message_ids=message_ids,
                status=closing.status,
                reason=closing.reason,
            )
            return Outcome.CLOSED
        reply_id = reply_id_for(newest.message_id)
        await add_event(
            conn,
            new_event(
                llm_events_pb2.ReplyRequested,
                event_id=reply_id,
                owner_id=newest.owner_id,
                reply_id=reply_id,
                integration_id=newest.integration_id,
                contact_id=newest.contact_id,
                in_reply_to_message_id=newest.message_id,
                text=closing.text,
                agent_id=closing.agent_id,
            ),
        )
        await repository.close_burst(
            conn,
            owner_id=newest.owner_id,
            message_ids=message_ids,
            status=repository.ANSWERED,
            reason=closing.reason,
            reply_id=reply_id,
        )
        return Outcome.SENT

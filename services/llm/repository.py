"""llm's SQL: inbound messages, usage counters, contact facts. Every function is scoped to an
owner and runs inside the caller's connection (and so its transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.llm.tables import contact_facts, inbound, usage

PENDING = "pending"
# A burst that reached its maximum length is claimed by its reply before the reply is written:
# newer messages then start a burst of their own instead of joining or superseding it.
ANSWERING = "answering"
OPEN = (PENDING, ANSWERING)
ANSWERED = "answered"
SKIPPED = "skipped"
ESCALATED = "escalated"
SUPPRESSED = "suppressed"


@dataclass(frozen=True, slots=True)
class InboundRow:
    message_id: str
    seq: int
    owner_id: str
    integration_id: str
    contact_id: str
    event_id: str
    text: str
    message_time: datetime
    status: str
    sentiment: float
    intents: tuple[str, ...]
    recorded_at: datetime
    reply_id: str


@dataclass(frozen=True, slots=True)
class UsageRow:
    agent_id: str
    input_tokens: int
    output_tokens: int
    messages_answered: int
    playground_input_tokens: int
    playground_output_tokens: int
    playground_replies: int
    updated_at: datetime


def _inbound_row(row: Any) -> InboundRow:
    return InboundRow(
        message_id=str(row.message_id),
        seq=int(row.seq),
        owner_id=str(row.owner_id),
        integration_id=str(row.integration_id),
        contact_id=str(row.contact_id),
        event_id=str(row.event_id),
        text=row.text,
        message_time=row.message_time,
        status=row.status,
        sentiment=float(row.sentiment),
        intents=tuple(row.intents or ()),
        recorded_at=row.recorded_at,
        reply_id=str(row.reply_id or ""),
    )


async def record_inbound(
    conn: AsyncConnection,
    *,
    message_id: str,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    event_id: str,
    text: str,
    message_time: datetime,
    status: str,
    reason: str,
    sentiment: float,
    intents: Sequence[str],
) -> bool:
    """Record an inbound message once; False when it was already recorded."""
    result = await conn.execute(
        insert(inbound)
        .values(
            message_id=message_id,
            owner_id=owner_id,
            integration_id=integration_id,
            contact_id=contact_id,
            event_id=event_id,
            text=text,
            message_time=message_time,
            status=status,
            reason=reason,
            sentiment=sentiment,
            intents=list(intents),
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(inbound.c.seq)
    )
    return result.first() is not None


async def get_inbound(
    conn: AsyncConnection, *, owner_id: str, message_id: str, lock: bool = False
) -> InboundRow | None:
    statement = sa.select(inbound).where(
        inbound.c.owner_id == owner_id, inbound.c.message_id == message_id
    )
    if lock:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).first()
    return _inbound_row(row) if row else None


def _newer_than(message: InboundRow) -> Any:
    return sa.tuple_(inbound.c.message_time, inbound.c.seq) > sa.tuple_(
        sa.literal(message.message_time), sa.literal(message.seq)
    )


async def has_newer(conn: AsyncConnection, message: InboundRow) -> bool:
    """Whether the contact wrote anything after `message` (whatever became of it)."""
    statement = (
        sa.select(inbound.c.message_id)
        .where(
            inbound.c.owner_id == message.owner_id,
            inbound.c.contact_id == message.contact_id,
            _newer_than(message),
        )
        .limit(1)
    )
    return (await conn.execute(statement)).first() is not None


async def pending_burst(
    conn: AsyncConnection, message: InboundRow, *, max_age: timedelta, reply_id: str
) -> list[InboundRow]:
    """The contact's unanswered messages up to and including `message`, oldest first: pending
    ones, and those already claimed by `reply_id` (a capped burst being answered)."""
    statement = (
        sa.select(inbound)
        .where(
            inbound.c.owner_id == message.owner_id,
            inbound.c.contact_id == message.contact_id,
            sa.or_(
                inbound.c.status == PENDING,
                sa.and_(inbound.c.status == ANSWERING, inbound.c.reply_id == reply_id),
            ),
            sa.tuple_(inbound.c.message_time, inbound.c.seq)
            <= sa.tuple_(sa.literal(message.message_time), sa.literal(message.seq)),
            inbound.c.message_time >= message.message_time - max_age,
        )
        .order_by(inbound.c.message_time, inbound.c.seq)
    )
    return [_inbound_row(row) for row in (await conn.execute(statement)).all()]


async def claim_burst(
    conn: AsyncConnection, *, owner_id: str, message_ids: Sequence[str], reply_id: str
) -> None:
    await conn.execute(
        sa.update(inbound)
        .where(
            inbound.c.owner_id == owner_id,
            inbound.c.message_id.in_(list(message_ids)),
            inbound.c.status == PENDING,
        )
        .values(status=ANSWERING, reply_id=reply_id)
    )


async def burst_age_seconds(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, max_age: timedelta
) -> float:
    """Seconds since the contact's oldest unanswered message was recorded (0 when none)."""
    age = await conn.scalar(
        sa.select(
            sa.func.extract("epoch", sa.func.now() - sa.func.min(inbound.c.recorded_at))
        ).where(
            inbound.c.owner_id == owner_id,
            inbound.c.contact_id == contact_id,
            inbound.c.status == PENDING,
            inbound.c.recorded_at >= sa.func.now() - max_age,
        )
    )
    return float(age or 0.0)


async def close_burst(
    conn: AsyncConnection,
    *,
    owner_id: str,
    message_ids: Sequence[str],
    status: str,
    reason: str = "",
    reply_id: str | None = None,
) -> None:
    await conn.execute(
        sa.update(inbound)
        .where(
            inbound.c.owner_id == owner_id,
            inbound.c.message_id.in_(list(message_ids)),
            inbound.c.status.in_(OPEN),
        )
        .values(status=status, reason=reason, reply_id=reply_id)
    )


async def add_usage(
    conn: AsyncConnection,
    *,
    owner_id: str,
    period: str,
    agent_id: str,
    input_tokens: int = 0,
    output_tokens: int = 0,
    messages_answered: int = 0,
    playground_input_tokens: int = 0,
    playground_output_tokens: int = 0,
    playground_replies: int = 0,
) -> None:
    increments = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "messages_answered": messages_answered,
        "playground_input_tokens": playground_input_tokens,
        "playground_output_tokens": playground_output_tokens,
        "playground_replies": playground_replies,
    }
    statement = insert(usage).values(
        owner_id=owner_id, period=period, agent_id=agent_id, **increments
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id", "period", "agent_id"],
            set_={
                **{name: getattr(usage.c, name) + value for name, value in increments.items()},
                "updated_at": sa.func.now(),
            },
        )
    )


async def messages_answered(conn: AsyncConnection, *, owner_id: str, period: str) -> int:
    total = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(usage.c.messages_answered), 0)).where(
            usage.c.owner_id == owner_id, usage.c.period == period
        )
    )
    return int(total or 0)


async def usage_rows(conn: AsyncConnection, *, owner_id: str, period: str) -> list[UsageRow]:
    rows = (
        await conn.execute(
            sa.select(usage).where(usage.c.owner_id == owner_id, usage.c.period == period)
        )
    ).all()
    return [
        UsageRow(
            agent_id=row.agent_id,
            input_tokens=int(row.input_tokens),
            output_tokens=int(row.output_tokens),
            messages_answered=int(row.messages_answered),
            playground_input_tokens=int(row.playground_input_tokens),
            playground_output_tokens=int(row.playground_output_tokens),
            playground_replies=int(row.playground_replies),
            updated_at=row.updated_at,
        )
        for row in rows
    ]


async def save_facts(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, facts: Mapping[str, str]
) -> None:
    statement = insert(contact_facts).values(
        owner_id=owner_id, contact_id=contact_id, facts=dict(facts)
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id", "contact_id"],
            set_={"facts": statement.excluded.facts, "updated_at": sa.func.now()},
        )
    )


async def facts_of(conn: AsyncConnection, *, owner_id: str, contact_id: str) -> dict[str, str]:
    facts = await conn.scalar(
        sa.select(contact_facts.c.facts).where(
            contact_facts.c.owner_id == owner_id, contact_facts.c.contact_id == contact_id
        )
    )
    return {str(k): str(v) for k, v in (facts or {}).items()}

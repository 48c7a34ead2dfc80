"""SQL for message history and the outbound send queue.

The send queue is the `messages` table itself: an outbound message is PENDING until the platform
accepts it (SENT) or refuses it for good (FAILED). Workers claim the head of each conversation's
queue under a lease (`send_attempt_id`, `send_lease_until`), so every conversation is sent in
order and one message is handled by one worker at a time. Claiming serves every owner and is the
one query here not filtered by `owner_id`; everything after the claim is.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import Message
from services.social.tables import messages


async def list_messages(
    connection: AsyncConnection,
    *,
    owner_id: str,
    contact_id: str,
    descending: bool,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Message]:
    query = sa.select(messages).where(
        messages.c.owner_id == owner_id, messages.c.contact_id == contact_id
    )
    key = sa.tuple_(messages.c.created_at, messages.c.id)
    if after is not None:
        created_at, row_id = after
        bound = sa.tuple_(
            sa.literal(created_at, messages.c.created_at.type),
            sa.literal(row_id, messages.c.id.type),
        )
        query = query.where(key < bound if descending else key > bound)
    if descending:
        query = query.order_by(messages.c.created_at.desc(), messages.c.id.desc())
    else:
        query = query.order_by(messages.c.created_at.asc(), messages.c.id.asc())
    rows = (await connection.execute(query.limit(limit))).all()
    return [Message.from_row(row) for row in rows]


async def latest_messages(
    connection: AsyncConnection,
    *,
    owner_id: str,
    contact_id: str,
    until: Message | None,
    limit: int,
) -> list[Message]:
    """The conversation's latest messages up to and including `until`, oldest first."""
    query = sa.select(messages).where(
        messages.c.owner_id == owner_id, messages.c.contact_id == contact_id
    )
    if until is not None:
        query = query.where(
            sa.tuple_(messages.c.created_at, messages.c.id)
            <= sa.tuple_(
                sa.literal(until.created_at, messages.c.created_at.type),
                sa.literal(until.id, messages.c.id.type),
            )
        )
    query = query.order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit)
    rows = (await connection.execute(query)).all()
    return [Message.from_row(row) for row in reversed(rows)]


async def get_message(
    connection: AsyncConnection, *, owner_id: str, message_id: str
) -> Message | None:
    row = (
        await connection.execute(
            sa.select(messages).where(messages.c.id == message_id, messages.c.owner_id == owner_id)
        )
    ).first()
    return Message.from_row(row) if row else None


async def enqueue_reply_parts(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    reply_id: str,
    parts: list[str],
    agent_id: str,
    in_reply_to_message_id: str | None,
) -> int:
    """Queue an agent reply, one row per part; parts already queued are left alone (a reply
    command delivered twice queues once). Returns how many rows were added."""
    rows = [
        {
            "id": str(uuid.uuid4()),
            "owner_id": owner_id,
            "integration_id": integration_id,
            "contact_id": contact_id,
            "direction": "outbound",
            "author_kind": "agent",
            "agent_id": agent_id,
            "text": text,
            "reply_id": reply_id,
            "reply_part": index,
            "in_reply_to_message_id": in_reply_to_message_id,
            "status": "pending",
        }
        for index, text in enumerate(parts)
    ]
    result = await connection.execute(
        insert(messages)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["reply_id", "reply_part"])
        .returning(messages.c.id)
    )
    return len(result.all())


async def enqueue_owner_message(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    request_id: str,
    text: str,
    in_reply_to_message_id: str | None,
) -> Message | None:
    """Queue a message the owner wrote; None when `request_id` was used before."""
    row = (
        await connection.execute(
            insert(messages)
            .values(
                id=str(uuid.uuid4()),
                owner_id=owner_id,
                integration_id=integration_id,
                contact_id=contact_id,
                direction="outbound",
                author_kind="owner",
                text=text,
                request_id=request_id,
                in_reply_to_message_id=in_reply_to_message_id,
                status="pending",
            )
            .on_conflict_do_nothing(index_elements=["owner_id", "request_id"])
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None


async def find_by_request(
    connection: AsyncConnection, *, owner_id: str, request_id: str
) -> Message | None:
    row = (
        await connection.execute(
            sa.select(messages).where(
                messages.c.owner_id == owner_id, messages.c.request_id == request_id
            )
        )
    ).first()
    return Message.from_row(row) if row else None


async def claim_due(
    connection: AsyncConnection, *, attempt_id: str, lease: timedelta, limit: int
) -> list[Message]:
    """Lease up to `limit` due messages, each the oldest pending one of its conversation."""
    head = sa.alias(messages, "earlier")
    candidates = (
        sa.select(messages.c.id)
        .where(
            messages.c.status == "pending",
            messages.c.direction == "outbound",
            messages.c.next_attempt_at <= sa.func.now(),
            sa.or_(
                messages.c.send_lease_until.is_(None),
                messages.c.send_lease_until < sa.func.now(),
            ),
            ~sa.exists().where(
                head.c.contact_id == messages.c.contact_id,
                head.c.status == "pending",
                head.c.direction == "outbound",
                sa.tuple_(head.c.created_at, head.c.reply_part, head.c.id)
                < sa.tuple_(messages.c.created_at, messages.c.reply_part, messages.c.id),
            ),
        )
        .order_by(messages.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await connection.execute(
            sa.update(messages)
            .where(messages.c.id.in_(candidates.scalar_subquery()))
            .values(send_attempt_id=attempt_id, send_lease_until=sa.func.now() + lease)
            .returning(messages)
        )
    ).all()
    return [Message.from_row(row) for row in rows]


async def defer(
    connection: AsyncConnection,
    *,
    owner_id: str,
    message_id: str,
    attempt_id: str,
    delay: timedelta,
    failed_attempt: bool,
) -> None:
    """Give the lease back and try again after `delay`."""
    await connection.execute(
        sa.update(messages)
        .where(
            messages.c.id == message_id,
            messages.c.owner_id == owner_id,
            messages.c.send_attempt_id == attempt_id,
            messages.c.status == "pending",
        )
        .values(
            send_lease_until=None,
            send_attempt_id=None,
            next_attempt_at=sa.func.now() + delay,
            attempts=messages.c.attempts + (1 if failed_attempt else 0),
        )
    )


async def mark_sent(
    connection: AsyncConnection,
    *,
    owner_id: str,
    message_id: str,
    platform_message_id: str,
    platform_at: datetime,
) -> Message | None:
    row = (
        await connection.execute(
            sa.update(messages)
            .where(
                messages.c.id == message_id,
                messages.c.owner_id == owner_id,
                messages.c.status == "pending",
            )
            .values(
                status="sent",
                platform_message_id=platform_message_id,
                platform_at=platform_at,
                send_attempt_id=None,
                send_lease_until=None,
            )
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None


async def mark_failed(
    connection: AsyncConnection, *, owner_id: str, message_id: str, error: str
) -> Message | None:
    row = (
        await connection.execute(
            sa.update(messages)
            .where(
                messages.c.id == message_id,
                messages.c.owner_id == owner_id,
                messages.c.status == "pending",
            )
            .values(
                status="failed", error_message=error, send_attempt_id=None, send_lease_until=None
            )
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None

"""The action log: every entry is stored and published (`agent.action.logged`, through the
outbox) in one transaction; the activity stream of every instance is fed from that event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import struct_pb2
from inbetwin.agent.v1 import action_pb2
from inbetwin.events.v1 import agent_events_pb2
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.agent.tables import actions
from services.kit.events import deterministic_id, new_event
from services.kit.outbox import add_event

MAX_DETAILS_BYTES = 64 * 1024
MAX_VALUE_CHARS = 4096


def details_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    """Details as a Struct, at most 64 KiB as JSON: long values are cut and flagged."""
    details = struct_pb2.Struct()
    encoded = json.dumps(values, default=str)
    if len(encoded.encode()) <= MAX_DETAILS_BYTES:
        details.update(json.loads(encoded))
        return details
    cut: dict[str, Any] = {"truncated": True}
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        cut[key] = text[:MAX_VALUE_CHARS]
    details.update(cut)
    return details


def to_proto(row: Row[Any]) -> action_pb2.AgentAction:
    return action_pb2.AgentAction.FromString(row.spec)


async def record(
    conn: AsyncConnection, *, owner_id: str, action: action_pb2.AgentAction
) -> action_pb2.AgentAction:
    """Store a new entry (id and times assigned here) and publish it."""
    now = datetime.now(UTC)
    stored = action_pb2.AgentAction()
    stored.CopyFrom(action)
    stored.id = str(uuid.uuid4())
    stored.create_time.FromDatetime(now)
    stored.update_time.FromDatetime(now)
    await conn.execute(
        sa.insert(actions).values(
            id=stored.id,
            owner_id=owner_id,
            agent_id=stored.agent_id,
            contact_id=stored.contact_id,
            message_id=stored.message_id,
            kind=int(stored.kind),
            status=int(stored.status),
            spec=stored.SerializeToString(),
            created_at=now,
            updated_at=now,
        )
    )
    await _publish(conn, owner_id, stored)
    return stored


async def finish(
    conn: AsyncConnection, *, owner_id: str, action: action_pb2.AgentAction
) -> action_pb2.AgentAction:
    """Store an entry's final status (same id) and publish it again."""
    now = datetime.now(UTC)
    stored = action_pb2.AgentAction()
    stored.CopyFrom(action)
    stored.update_time.FromDatetime(now)
    await conn.execute(
        sa.update(actions)
        .where(actions.c.owner_id == owner_id, actions.c.id == stored.id)
        .values(status=int(stored.status), spec=stored.SerializeToString(), updated_at=now)
    )
    await _publish(conn, owner_id, stored)
    return stored


async def _publish(conn: AsyncConnection, owner_id: str, action: action_pb2.AgentAction) -> None:
    event = new_event(
        agent_events_pb2.AgentActionLogged,
        owner_id=owner_id,
        event_id=deterministic_id("agent.action", action.id, str(int(action.status))),
        action=action,
    )
    await add_event(conn, event)


async def action_by_id(conn: AsyncConnection, *, owner_id: str, action_id: str) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(actions).where(actions.c.owner_id == owner_id, actions.c.id == action_id)
        )
    ).first()


async def list_actions(
    conn: AsyncConnection,
    *,
    owner_id: str,
    limit: int,
    before: tuple[datetime, str] | None,
    agent_id: str = "",
    contact_id: str = "",
    message_id: str = "",
    kind: int = 0,
    status: int = 0,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
) -> list[Row[Any]]:
    """Newest first."""
    query = sa.select(actions).where(actions.c.owner_id == owner_id)
    for column, value in (
        (actions.c.agent_id, agent_id),
        (actions.c.contact_id, contact_id),
        (actions.c.message_id, message_id),
    ):
        if value:
            query = query.where(column == value)
    if kind:
        query = query.where(actions.c.kind == kind)
    if status:
        query = query.where(actions.c.status == status)
    if start_time is not None:
        query = query.where(actions.c.created_at >= start_time)
    if end_time is not None:
        query = query.where(actions.c.created_at < end_time)
    if before is not None:
        query = query.where(
            sa.tuple_(actions.c.created_at, actions.c.id)
            < sa.tuple_(sa.literal(before[0]), sa.cast(before[1], UUID(as_uuid=False)))
        )
    query = query.order_by(actions.c.created_at.desc(), actions.c.id.desc()).limit(limit)
    return list((await conn.execute(query)).all())


async def changed_since(
    conn: AsyncConnection, *, owner_id: str, since: datetime, limit: int
) -> list[action_pb2.AgentAction]:
    """Entries changed since `since`, oldest first (the last `limit` of them)."""
    query = (
        sa.select(actions.c.spec)
        .where(actions.c.owner_id == owner_id, actions.c.updated_at >= since)
        .order_by(actions.c.updated_at.desc(), actions.c.id.desc())
        .limit(limit)
    )
    rows = list((await conn.execute(query)).all())
    return [action_pb2.AgentAction.FromString(row.spec) for row in reversed(rows)]

"""Who has a conversation: the handoff state machine.

OPEN -> RESOLVED is the only transition; at most one handoff per conversation is OPEN (a unique
partial index, and opens of one conversation serialised by an advisory lock), so every path
that asks for a human (call_operator, a guardrail, the owner's takeover, the owner's manual
message) converges on the one open handoff and nothing loops back into a new one. Each change is
logged as an action and published (handoff.requested / handoff.resolved) in its transaction.
The open handoff of a conversation is mirrored in Redis for the per-reply control check:
writers overwrite it after commit, readers fill a gap only with SET NX.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from inbetwin.agent.v1 import action_pb2, handoff_pb2
from inbetwin.events.v1 import agent_events_pb2
from redis.asyncio import Redis
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.agent import action_log, errors
from services.agent.repository import lock_owner
from services.agent.tables import handoffs
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event

OPEN = handoff_pb2.HANDOFF_STATE_OPEN
RESOLVED = handoff_pb2.HANDOFF_STATE_RESOLVED
NONE_OPEN = b""
CACHE_TTL_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    owner_id: str
    integration_id: str
    contact_id: str
    requested_by: int
    agent_id: str = ""
    message_id: str = ""
    reason: str = ""


def to_proto(row: Row[Any]) -> handoff_pb2.Handoff:
    handoff = handoff_pb2.Handoff(
        id=row.id,
        agent_id=row.agent_id,
        integration_id=row.integration_id,
        contact_id=row.contact_id,
        reason=row.reason,
        state=row.state,
        requested_by=row.requested_by,
        request_action_id=row.request_action_id,
        resolution_note=row.resolution_note,
    )
    handoff.create_time.FromDatetime(row.created_at)
    if row.resolved_at is not None:
        handoff.resolve_time.FromDatetime(row.resolved_at)
    return handoff


def _key(owner_id: str, contact_id: str) -> str:
    return f"agent:handoff:{owner_id}:{contact_id}"


class Handoffs:
    def __init__(self, engine: AsyncEngine, relay: OutboxRelay, redis: Redis) -> None:
        self._engine = engine
        self._relay = relay
        self._redis = redis

    async def open(
        self, request: HandoffRequest, conn: AsyncConnection | None = None
    ) -> tuple[handoff_pb2.Handoff, bool]:
        """The conversation's open handoff, opening it if none is (created=True then)."""
        if conn is not None:
            return await self._open(conn, request)
        async with self._engine.begin() as own:
            handoff, created = await self._open(own, request)
        if created:
            await self.cache(request.owner_id, request.contact_id, handoff)
            self._relay.notify()
        return handoff, created

    async def _open(
        self, conn: AsyncConnection, request: HandoffRequest
    ) -> tuple[handoff_pb2.Handoff, bool]:
        await lock_owner(conn, owner_id=request.owner_id, scope=f"handoff:{request.contact_id}")
        existing = await _open_row(conn, request.owner_id, request.contact_id)
        if existing is not None:
            return to_proto(existing), False
        handoff_id = str(uuid.uuid4())
        action = await action_log.record(
            conn,
            owner_id=request.owner_id,
            action=action_pb2.AgentAction(
                agent_id=request.agent_id,
                integration_id=request.integration_id,
                contact_id=request.contact_id,
                message_id=request.message_id,
                kind=action_pb2.ACTION_KIND_HANDOFF_REQUESTED,
                status=action_pb2.ACTION_STATUS_SUCCEEDED,
                details=action_log.details_struct(
                    {
                        "handoff_id": handoff_id,
                        "requested_by": handoff_pb2.HandoffRequester.Name(request.requested_by),  # type: ignore[arg-type,unused-ignore]
                        "reason": request.reason,
                    }
                ),
            ),
        )
        row = (
            await conn.execute(
                sa.insert(handoffs)
                .values(
                    id=handoff_id,
                    owner_id=request.owner_id,
                    agent_id=request.agent_id,
                    integration_id=request.integration_id,
                    contact_id=request.contact_id,
                    reason=request.reason,
                    state=OPEN,
                    requested_by=request.requested_by,
                    request_action_id=action.id,
                    created_at=datetime.now(UTC),
                )
                .returning(*handoffs.c)
            )
        ).one()
        handoff = to_proto(row)
        await add_event(
            conn,
            new_event(
                agent_events_pb2.HandoffRequested, owner_id=request.owner_id, handoff=handoff
            ),
        )
        return handoff, True

    async def resolve(self, owner_id: str, handoff_id: str, note: str) -> handoff_pb2.Handoff:
        """RESOLVED now (unchanged when it already was); HANDOFF_NOT_FOUND otherwise."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(handoffs)
                    .where(handoffs.c.owner_id == owner_id, handoffs.c.id == handoff_id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise errors.handoff_not_found()
            if row.state == RESOLVED:
                return to_proto(row)
            handoff = await self._resolve(conn, row, note)
        await self.cache(owner_id, handoff.contact_id, None)
        self._relay.notify()
        return handoff

    async def resolve_open(
        self, conn: AsyncConnection, *, owner_id: str, contact_id: str, opened_before: datetime
    ) -> handoff_pb2.Handoff | None:
        """Resolve the conversation's open handoff if it opened before `opened_before` (a stale
        "resumed" never closes a handoff opened after it)."""
        row = await _open_row(conn, owner_id, contact_id, for_update=True)
        if row is None or row.created_at >= opened_before:
            return None
        return await self._resolve(conn, row, "")

    async def _resolve(
        self, conn: AsyncConnection, row: Row[Any], note: str
    ) -> handoff_pb2.Handoff:
        now = datetime.now(UTC)
        updated = (
            await conn.execute(
                sa.update(handoffs)
                .where(handoffs.c.id == row.id)
                .values(state=RESOLVED, resolved_at=now, resolution_note=note)
                .returning(*handoffs.c)
            )
        ).one()
        handoff = to_proto(updated)
        await action_log.record(
            conn,
            owner_id=row.owner_id,
            action=action_pb2.AgentAction(
                agent_id=row.agent_id,
                integration_id=row.integration_id,
                contact_id=row.contact_id,
                kind=action_pb2.ACTION_KIND_HANDOFF_RESOLVED,
                status=action_pb2.ACTION_STATUS_SUCCEEDED,
                details=action_log.details_struct({"handoff_id": row.id, "note": note}),
            ),
        )
        await add_event(
            conn,
            new_event(agent_events_pb2.HandoffResolved, owner_id=row.owner_id, handoff=handoff),
        )
        return handoff

    async def last_resolve_time(
        self, conn: AsyncConnection, *, owner_id: str, contact_id: str
    ) -> datetime | None:
        result = await conn.execute(
            sa.select(sa.func.max(handoffs.c.resolved_at)).where(
                handoffs.c.owner_id == owner_id, handoffs.c.contact_id == contact_id
            )
        )
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def open_handoff(self, owner_id: str, contact_id: str) -> handoff_pb2.Handoff | None:
        """The conversation's open handoff, served from Redis."""
        raw = cast(bytes | None, await self._redis.get(_key(owner_id, contact_id)))
        if raw is not None:
            return handoff_pb2.Handoff.FromString(bytes(raw)) if raw != NONE_OPEN else None
        async with self._engine.connect() as conn:
            row = await _open_row(conn, owner_id, contact_id)
        handoff = to_proto(row) if row is not None else None
        value = handoff.SerializeToString() if handoff is not None else NONE_OPEN
        await self._redis.set(_key(owner_id, contact_id), value, ex=CACHE_TTL_SECONDS, nx=True)
        return handoff

    async def cache(
        self, owner_id: str, contact_id: str, handoff: handoff_pb2.Handoff | None
    ) -> None:
        """After a commit: the conversation's open handoff (None: none is open)."""
        value = handoff.SerializeToString() if handoff is not None else NONE_OPEN
        await self._redis.set(_key(owner_id, contact_id), value, ex=CACHE_TTL_SECONDS)

    async def get(self, owner_id: str, handoff_id: str) -> handoff_pb2.Handoff:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(handoffs).where(
                        handoffs.c.owner_id == owner_id, handoffs.c.id == handoff_id
                    )
                )
            ).first()
        if row is None:
            raise errors.handoff_not_found()
        return to_proto(row)

    async def page(
        self,
        owner_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None,
        state: int,
        agent_id: str,
        contact_id: str,
    ) -> list[Row[Any]]:
        query = sa.select(handoffs).where(handoffs.c.owner_id == owner_id)
        if state:
            query = query.where(handoffs.c.state == state)
        if agent_id:
            query = query.where(handoffs.c.agent_id == agent_id)
        if contact_id:
            query = query.where(handoffs.c.contact_id == contact_id)
        if before is not None:
            query = query.where(
                sa.tuple_(handoffs.c.created_at, handoffs.c.id)
                < sa.tuple_(sa.literal(before[0]), sa.cast(before[1], UUID(as_uuid=False)))
            )
        query = query.order_by(handoffs.c.created_at.desc(), handoffs.c.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())


async def _open_row(
    conn: AsyncConnection, owner_id: str, contact_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    query = sa.select(handoffs).where(
        handoffs.c.owner_id == owner_id,
        handoffs.c.contact_id == contact_id,
        handoffs.c.state == OPEN,
    )
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).first()

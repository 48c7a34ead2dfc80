"""SQL for agents and idempotency keys: keyword-only functions over a connection."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.agent.tables import agents, idempotency_keys, tool_connections, tools

IDEMPOTENCY_TTL = timedelta(hours=24)


async def lock_owner(conn: AsyncConnection, *, owner_id: str, scope: str) -> None:
    """Serialise an owner's creates of one kind (limit checks) until the transaction ends."""
    await conn.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"{scope}:{owner_id}", 0)))
    )


async def remembered(
    conn: AsyncConnection, *, owner_id: str, scope: str, request_id: str
) -> bytes | None:
    if not request_id:
        return None
    row = (
        await conn.execute(
            sa.select(idempotency_keys.c.response).where(
                idempotency_keys.c.owner_id == owner_id,
                idempotency_keys.c.scope == scope,
                idempotency_keys.c.request_id == request_id,
                idempotency_keys.c.created_at > sa.func.now() - IDEMPOTENCY_TTL,
            )
        )
    ).first()
    return bytes(row.response) if row else None


async def remember(
    conn: AsyncConnection, *, owner_id: str, scope: str, request_id: str, response: bytes
) -> None:
    if not request_id:
        return
    await conn.execute(
        insert(idempotency_keys)
        .values(owner_id=owner_id, scope=scope, request_id=request_id, response=response)
        .on_conflict_do_update(
            index_elements=["owner_id", "scope", "request_id"],
            set_={"response": response, "created_at": sa.func.now()},
        )
    )


async def count_agents(conn: AsyncConnection, *, owner_id: str) -> int:
    result = await conn.execute(
        sa.select(sa.func.count()).select_from(agents).where(agents.c.owner_id == owner_id)
    )
    return int(result.scalar_one())


async def insert_agent(
    conn: AsyncConnection,
    *,
    owner_id: str,
    spec: bytes,
    enabled: bool,
    integration_ids: list[str],
    tool_ids: list[str],
) -> Row[Any]:
    return (
        await conn.execute(
            sa.insert(agents)
            .values(
                id=str(uuid.uuid4()),
                owner_id=owner_id,
                spec=spec,
                enabled=enabled,
                integration_ids=integration_ids,
                tool_ids=tool_ids,
            )
            .returning(*agents.c)
        )
    ).one()


async def agent_by_id(
    conn: AsyncConnection, *, owner_id: str, agent_id: str, for_update: bool = False
) -> Row[Any] | None:
    query = sa.select(agents).where(agents.c.owner_id == owner_id, agents.c.id == agent_id)
    if for_update:
        query = query.with_for_update()
    row: Row[Any] | None = (await conn.execute(query)).first()
    return row


async def update_agent(
    conn: AsyncConnection,
    *,
    owner_id: str,
    agent_id: str,
    spec: bytes,
    enabled: bool,
    integration_ids: list[str],
    tool_ids: list[str],
) -> Row[Any]:
    return (
        await conn.execute(
            sa.update(agents)
            .where(agents.c.owner_id == owner_id, agents.c.id == agent_id)
            .values(
                spec=spec,
                enabled=enabled,
                integration_ids=integration_ids,
                tool_ids=tool_ids,
                version=agents.c.version + 1,
                updated_at=sa.func.clock_timestamp(),
            )
            .returning(*agents.c)
        )
    ).one()


async def delete_agent(
    conn: AsyncConnection, *, owner_id: str, agent_id: str
) -> Row[Any, Any] | None:
    row: Row[Any, Any] | None = (
        await conn.execute(
            sa.delete(agents)
            .where(agents.c.owner_id == owner_id, agents.c.id == agent_id)
            .returning(agents.c.id, agents.c.version)
        )
    ).first()
    return row


async def list_agents(
    conn: AsyncConnection,
    *,
    owner_id: str,
    limit: int,
    after: tuple[datetime, str] | None,
    integration_id: str,
    enabled_only: bool,
) -> list[Row[Any]]:
    query = sa.select(agents).where(agents.c.owner_id == owner_id)
    if integration_id:
        query = query.where(
            sa.or_(
                sa.func.cardinality(agents.c.integration_ids) == 0,
                sa.literal(integration_id) == sa.any_(agents.c.integration_ids),
            )
        )
    if enabled_only:
        query = query.where(agents.c.enabled.is_(True))
    if after is not None:
        query = query.where(
            sa.tuple_(agents.c.created_at, agents.c.id)
            > sa.tuple_(sa.literal(after[0]), sa.cast(after[1], UUID(as_uuid=False)))
        )
    query = query.order_by(agents.c.created_at, agents.c.id).limit(limit)
    return list((await conn.execute(query)).all())


async def agents_using_tool(
    conn: AsyncConnection, *, owner_id: str, tool_id: str
) -> list[Row[Any]]:
    query = (
        sa.select(agents)
        .where(agents.c.owner_id == owner_id, sa.literal(tool_id) == sa.any_(agents.c.tool_ids))
        .with_for_update()
    )
    return list((await conn.execute(query)).all())


async def agents_of_owner(conn: AsyncConnection, *, owner_id: str) -> list[Row[Any]]:
    query = sa.select(agents).where(agents.c.owner_id == owner_id).with_for_update()
    return list((await conn.execute(query)).all())


async def existing_tool_ids(
    conn: AsyncConnection, *, owner_id: str, tool_ids: list[str]
) -> set[str]:
    if not tool_ids:
        return set()
    result = await conn.execute(
        sa.select(tools.c.id).where(tools.c.owner_id == owner_id, tools.c.id.in_(tool_ids))
    )
    return {row.id for row in result}


async def connection_provider(
    conn: AsyncConnection, *, owner_id: str, connection_id: str
) -> int | None:
    result = await conn.execute(
        sa.select(tool_connections.c.provider).where(
            tool_connections.c.owner_id == owner_id, tool_connections.c.id == connection_id
        )
    )
    value = result.scalar_one_or_none()
    return int(value) if value is not None else None

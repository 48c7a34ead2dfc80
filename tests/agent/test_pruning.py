"""Action-log retention: entries older than the retention go, in batches, newer ones stay;
tool-call and idempotency records go after 24 hours; the server prunes on its own interval."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.pruning import prune
from services.agent.tables import actions, tool_calls
from services.kit.db import create_engine
from services.stack import Stack
from tests.agent.conftest import MakeAgentServer


@pytest.fixture(scope="module")
async def engine(migrated: Stack) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated.database_url("agent"), pool_size=2)
    yield engine
    await engine.dispose()


async def _action(engine: AsyncEngine, owner_id: str, age: timedelta) -> str:
    action_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(actions).values(
                id=action_id,
                owner_id=owner_id,
                kind=1,
                status=1,
                spec=b"",
                created_at=sa.func.now() - age,
            )
        )
    return action_id


async def _remaining(engine: AsyncEngine, ids: list[str]) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(actions.c.id).where(actions.c.id.in_(ids)))
    return {row.id for row in rows}


async def test_old_entries_go_in_batches_and_recent_ones_stay(engine: AsyncEngine) -> None:
    owner_id = str(uuid.uuid4())
    old = [await _action(engine, owner_id, timedelta(days=40)) for _ in range(5)]
    recent = await _action(engine, owner_id, timedelta(days=20))
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(tool_calls).values(
                owner_id=owner_id,
                call_id="stale",
                fingerprint="f",
                action_id=old[0],
                created_at=sa.func.now() - timedelta(hours=25),
            )
        )
    deleted = await prune(engine, retention=timedelta(days=30), batch=2)
    assert deleted["actions"] >= 5
    assert deleted["tool_calls"] >= 1
    assert await _remaining(engine, [*old, recent]) == {recent}


async def test_the_server_prunes_on_its_interval(
    make_agent_server: MakeAgentServer, engine: AsyncEngine
) -> None:
    owner_id = str(uuid.uuid4())
    expired = await _action(engine, owner_id, timedelta(days=3))
    kept = await _action(engine, owner_id, timedelta(hours=1))
    await make_agent_server(action_log_retention_days=2, action_log_prune_interval_seconds=0.1)
    for _ in range(200):
        if expired not in await _remaining(engine, [expired]):
            break
        await asyncio.sleep(0.1)
    assert await _remaining(engine, [expired, kept]) == {kept}

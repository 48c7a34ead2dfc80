"""Deletes what has outlived its retention: action-log entries older than the configured age,
and tool-call and idempotency records past their 24 hours. Deletes run in small batches (each
its own transaction, skipping rows another instance is deleting) so no long lock is held."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.tables import actions, idempotency_keys, tool_calls

log = logging.getLogger(__name__)
DAY = timedelta(hours=24)


async def _delete_batches(engine: AsyncEngine, table: sa.Table, age: timedelta, batch: int) -> int:
    # ctid = ANY(ARRAY(...)) is a TID scan: each batch touches only the rows it deletes.
    statement = sa.text(
        f"DELETE FROM {table.name} WHERE ctid = ANY(ARRAY("  # noqa: S608 - a table of ours
        f"SELECT ctid FROM {table.name} WHERE created_at < now() - make_interval(secs => :age) "
        "LIMIT :batch FOR UPDATE SKIP LOCKED))"
    )
    deleted = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(statement, {"age": age.total_seconds(), "batch": batch})
        deleted += result.rowcount
        if result.rowcount < batch:
            return deleted


async def prune(engine: AsyncEngine, *, retention: timedelta, batch: int) -> dict[str, int]:
    """One pass; returns how many rows left each table."""
    return {
        "actions": await _delete_batches(engine, actions, retention, batch),
        "tool_calls": await _delete_batches(engine, tool_calls, DAY, batch),
        "idempotency_keys": await _delete_batches(engine, idempotency_keys, DAY, batch),
    }


async def prune_forever(
    engine: AsyncEngine, *, retention: timedelta, batch: int, interval_seconds: float
) -> None:
    while True:
        try:
            deleted = await prune(engine, retention=retention, batch=batch)
            if any(deleted.values()):
                log.info("pruned", extra={"deleted": deleted})
        except Exception:  # a failed pass is retried at the next interval
            log.exception("pruning failed")
        await asyncio.sleep(interval_seconds)

"""SQL for contact synchronisation runs (`contact_syncs`), at most one running per integration."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import ContactSync, Integration
from services.social.tables import contact_syncs, integrations


async def latest_sync(
    connection: AsyncConnection, *, owner_id: str, integration_id: str
) -> ContactSync | None:
    row = (
        await connection.execute(
            sa.select(contact_syncs)
            .where(
                contact_syncs.c.integration_id == integration_id,
                contact_syncs.c.owner_id == owner_id,
            )
            .order_by(contact_syncs.c.started_at.desc())
            .limit(1)
        )
    ).first()
    return ContactSync.from_row(row) if row else None


async def latest_syncs(
    connection: AsyncConnection, *, owner_id: str, integration_ids: list[str]
) -> dict[str, ContactSync]:
    if not integration_ids:
        return {}
    newest = sa.alias(contact_syncs, "newest")
    latest_start = (
        sa.select(sa.func.max(newest.c.started_at))
        .where(newest.c.integration_id == contact_syncs.c.integration_id)
        .scalar_subquery()
    )
    rows = (
        await connection.execute(
            sa.select(contact_syncs).where(
                contact_syncs.c.integration_id.in_(integration_ids),
                contact_syncs.c.owner_id == owner_id,
                contact_syncs.c.started_at == latest_start,
            )
        )
    ).all()
    return {str(row.integration_id): ContactSync.from_row(row) for row in rows}


async def start_sync(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, lease: timedelta
) -> tuple[ContactSync, bool]:
    """Start a run, or return the one in progress: (run, whether this call started it). A run
    whose worker stopped renewing its lease is closed as failed first."""
    await connection.execute(
        sa.update(contact_syncs)
        .where(
            contact_syncs.c.integration_id == integration_id,
            contact_syncs.c.owner_id == owner_id,
            contact_syncs.c.state == "running",
            contact_syncs.c.lease_until < sa.func.now(),
        )
        .values(state="failed", ended_at=sa.func.now(), error_message="interrupted")
    )
    row = (
        await connection.execute(
            insert(contact_syncs)
            .values(
                id=str(uuid.uuid4()),
                owner_id=owner_id,
                integration_id=integration_id,
                state="running",
                lease_until=sa.func.now() + lease,
            )
            .on_conflict_do_nothing(
                index_elements=["integration_id"], index_where=sa.text("state = 'running'")
            )
            .returning(contact_syncs)
        )
    ).first()
    if row is not None:
        return ContactSync.from_row(row), True
    running = await latest_sync(connection, owner_id=owner_id, integration_id=integration_id)
    if running is None:  # the running one finished between the two statements
        raise RuntimeError("contact sync state changed concurrently")
    return running, False


async def record_progress(
    connection: AsyncConnection,
    *,
    owner_id: str,
    sync_id: str,
    seen: int,
    created: int,
    updated: int,
    lease: timedelta,
) -> None:
    await connection.execute(
        sa.update(contact_syncs)
        .where(contact_syncs.c.id == sync_id, contact_syncs.c.owner_id == owner_id)
        .values(
            contacts_seen=seen,
            contacts_created=created,
            contacts_updated=updated,
            lease_until=sa.func.now() + lease,
        )
    )


async def finish_sync(
    connection: AsyncConnection,
    *,
    owner_id: str,
    sync_id: str,
    seen: int,
    created: int,
    updated: int,
    error: str,
) -> None:
    await connection.execute(
        sa.update(contact_syncs)
        .where(contact_syncs.c.id == sync_id, contact_syncs.c.owner_id == owner_id)
        .values(
            state="failed" if error else "succeeded",
            ended_at=sa.func.now(),
            contacts_seen=seen,
            contacts_created=created,
            contacts_updated=updated,
            error_message=error,
        )
    )


async def due_for_sync(
    connection: AsyncConnection, *, platforms: tuple[str, ...], interval: timedelta, limit: int
) -> list[Integration]:
    """Not owner-scoped: the hourly scheduler serves every owner. Active integrations whose
    latest run started longer than `interval` ago (or that never ran)."""
    latest = (
        sa.select(sa.func.max(contact_syncs.c.started_at))
        .where(contact_syncs.c.integration_id == integrations.c.id)
        .scalar_subquery()
    )
    rows = (
        await connection.execute(
            sa.select(integrations)
            .where(
                integrations.c.status == "active",
                integrations.c.platform.in_(platforms),
                sa.or_(latest.is_(None), latest < sa.func.now() - interval),
            )
            .order_by(integrations.c.created_at)
            .limit(limit)
        )
    ).all()
    return [Integration.from_row(row) for row in rows]

"""leads's SQL: keyword-only functions over a connection, returning rows, domain values or None.
Every statement filters on the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit.outbox import OUTBOX
from services.leads.signals import (
    Assessment,
    Author,
    ContactSignals,
    FactSnapshot,
    Handoff,
    HandoffRequester,
    Message,
)
from services.leads.tables import (
    lead_assessments,
    lead_contacts,
    lead_fact_snapshots,
    lead_handoffs,
    lead_messages,
    lead_score_history,
    leads,
    owner_models,
)

# --- per-contact lock -------------------------------------------------------------------------


async def lock_contact(conn: AsyncConnection, *, owner_id: str, contact_id: str) -> None:
    """Serialise every change to one contact's lead, across instances, until the transaction ends
    (taken before the lead row exists, so two first events cannot create two leads)."""
    await conn.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(
                sa.func.hashtextextended(f"leads:{owner_id}:{contact_id}", 0)
            )
        )
    )


# --- signal state -----------------------------------------------------------------------------


async def upsert_contact_profile(
    conn: AsyncConnection,
    *,
    owner_id: str,
    contact_id: str,
    integration_id: str,
    platform: str,
    display_name: str,
    at: datetime,
) -> bool:
    """Store the profile unless a newer one is stored; True when it was stored."""
    statement = insert(lead_contacts).values(
        owner_id=owner_id,
        contact_id=contact_id,
        integration_id=integration_id,
        platform=platform,
        display_name=display_name,
        profile_at=at,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["owner_id", "contact_id"],
        set_={
            "integration_id": statement.excluded.integration_id,
            "platform": statement.excluded.platform,
            "display_name": statement.excluded.display_name,
            "profile_at": statement.excluded.profile_at,
        },
        where=statement.excluded.profile_at > lead_contacts.c.profile_at,
    ).returning(lead_contacts.c.contact_id)
    return (await conn.execute(upsert)).first() is not None


async def contact_profile(
    conn: AsyncConnection, *, owner_id: str, contact_id: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(lead_contacts).where(
                lead_contacts.c.owner_id == owner_id, lead_contacts.c.contact_id == contact_id
            )
        )
    ).first()


async def upsert_message(
    conn: AsyncConnection,
    *,
    owner_id: str,
    contact_id: str,
    integration_id: str,
    message: Message,
    revised_at: datetime,
) -> None:
    """Store a message under its id; a redelivery changes nothing, a later edit replaces the text."""
    statement = insert(lead_messages).values(
        owner_id=owner_id,
        message_id=message.message_id,
        contact_id=contact_id,
        integration_id=integration_id,
        inbound=message.inbound,
        author=message.author.value,
        text=message.text,
        sent_at=message.sent_at,
        revised_at=revised_at,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id", "message_id"],
            set_={"text": statement.excluded.text, "revised_at": statement.excluded.revised_at},
            where=statement.excluded.revised_at > lead_messages.c.revised_at,
        )
    )


async def upsert_assessment(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, assessment: Assessment
) -> None:
    """One assessment per message: the latest one wins whatever order they arrive in."""
    statement = insert(lead_assessments).values(
        owner_id=owner_id,
        message_id=assessment.message_id,
        contact_id=contact_id,
        sentiment=assessment.sentiment,
        intents=list(assessment.intents),
        assessed_at=assessment.assessed_at,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id", "message_id"],
            set_={
                "sentiment": statement.excluded.sentiment,
                "intents": statement.excluded.intents,
                "assessed_at": statement.excluded.assessed_at,
            },
            where=statement.excluded.assessed_at > lead_assessments.c.assessed_at,
        )
    )


async def insert_fact_snapshot(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, snapshot: FactSnapshot
) -> None:
    await conn.execute(
        insert(lead_fact_snapshots)
        .values(
            owner_id=owner_id,
            event_id=snapshot.event_id,
            contact_id=contact_id,
            facts=snapshot.facts,
            source_message_id=snapshot.source_message_id,
            saved_at=snapshot.saved_at,
        )
        .on_conflict_do_nothing()
    )


async def upsert_handoff(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, handoff: Handoff
) -> None:
    """Merge what a requested or resolved event says about a handoff, in either order."""
    statement = insert(lead_handoffs).values(
        owner_id=owner_id,
        handoff_id=handoff.handoff_id,
        contact_id=contact_id,
        requested_by=handoff.requested_by.value,
        reason=handoff.reason,
        opened_at=handoff.opened_at,
        resolved_at=handoff.resolved_at,
    )
    current = lead_handoffs.c
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id", "handoff_id"],
            set_={
                "requested_by": sa.case(
                    (
                        current.requested_by == HandoffRequester.UNKNOWN.value,
                        statement.excluded.requested_by,
                    ),
                    else_=current.requested_by,
                ),
                "reason": sa.case(
                    (current.reason == "", statement.excluded.reason), else_=current.reason
                ),
                "opened_at": sa.func.least(current.opened_at, statement.excluded.opened_at),
                "resolved_at": sa.func.coalesce(
                    current.resolved_at, statement.excluded.resolved_at
                ),
            },
        )
    )


async def load_signals(conn: AsyncConnection, *, owner_id: str, contact_id: str) -> ContactSignals:
    def of(table: sa.Table) -> sa.Select[Any]:
        return sa.select(table).where(
            table.c.owner_id == owner_id, table.c.contact_id == contact_id
        )

    messages = [
        Message(
            message_id=row.message_id,
            inbound=row.inbound,
            author=Author(row.author),
            text=row.text,
            sent_at=row.sent_at,
        )
        for row in await conn.execute(of(lead_messages))
    ]
    assessments = [
        Assessment(
            message_id=row.message_id,
            sentiment=row.sentiment,
            intents=tuple(row.intents),
            assessed_at=row.assessed_at,
        )
        for row in await conn.execute(of(lead_assessments))
    ]
    snapshots = [
        FactSnapshot(
            event_id=row.event_id,
            facts={str(k): str(v) for k, v in row.facts.items()},
            source_message_id=row.source_message_id,
            saved_at=row.saved_at,
        )
        for row in await conn.execute(of(lead_fact_snapshots))
    ]
    handoffs = [
        Handoff(
            handoff_id=row.handoff_id,
            requested_by=HandoffRequester(row.requested_by),
            reason=row.reason,
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
        )
        for row in await conn.execute(of(lead_handoffs))
    ]
    return ContactSignals(tuple(messages), tuple(assessments), tuple(snapshots), tuple(handoffs))


async def contact_integration(conn: AsyncConnection, *, owner_id: str, contact_id: str) -> str:
    """The integration the contact's messages came through (the latest one that names it)."""
    value = (
        await conn.execute(
            sa.select(lead_messages.c.integration_id)
            .where(
                lead_messages.c.owner_id == owner_id,
                lead_messages.c.contact_id == contact_id,
                lead_messages.c.integration_id != "",
            )
            .order_by(lead_messages.c.sent_at.desc(), lead_messages.c.message_id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return str(value) if value else ""


# --- leads ------------------------------------------------------------------------------------


async def lead_by_contact(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, lock: bool = False
) -> Row[Any] | None:
    query = sa.select(leads).where(leads.c.owner_id == owner_id, leads.c.contact_id == contact_id)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def lead_by_id(
    conn: AsyncConnection, *, owner_id: str, lead_id: str, lock: bool = False
) -> Row[Any] | None:
    query = sa.select(leads).where(leads.c.owner_id == owner_id, leads.c.id == lead_id)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def insert_lead(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, values: dict[str, Any]
) -> Row[Any]:
    return (
        await conn.execute(
            sa.insert(leads)
            .values(
                id=str(uuid.uuid4()), owner_id=owner_id, contact_id=contact_id, version=1, **values
            )
            .returning(*leads.c)
        )
    ).one()


async def update_lead(conn: AsyncConnection, *, lead_id: str, values: dict[str, Any]) -> Row[Any]:
    return (
        await conn.execute(
            sa.update(leads)
            .where(leads.c.id == lead_id)
            .values(version=leads.c.version + 1, **values)
            .returning(*leads.c)
        )
    ).one()


async def update_lead_quietly(
    conn: AsyncConnection, *, lead_id: str, recency_check_at: datetime | None
) -> None:
    """Move the recency check alone: not a change anyone sees, so no new version."""
    await conn.execute(
        sa.update(leads).where(leads.c.id == lead_id).values(recency_check_at=recency_check_at)
    )


async def append_history(
    conn: AsyncConnection, *, lead_id: str, score: int, stage: str, cause: str, at: datetime
) -> None:
    await conn.execute(
        sa.insert(lead_score_history).values(
            lead_id=lead_id, score=score, stage=stage, cause=cause, at=at
        )
    )


async def score_history(conn: AsyncConnection, *, lead_id: str, limit: int) -> list[Row[Any]]:
    latest = (
        sa.select(lead_score_history)
        .where(lead_score_history.c.lead_id == lead_id)
        .order_by(lead_score_history.c.id.desc())
        .limit(limit)
        .subquery()
    )
    return list(await conn.execute(sa.select(latest).order_by(latest.c.id)))


async def points_before(
    conn: AsyncConnection, *, lead_ids: Sequence[str], at: datetime
) -> dict[str, Row[Any]]:
    """Each lead's last history point at or before `at` (leads created later have none)."""
    if not lead_ids:
        return {}
    history = lead_score_history.c
    ranked = (
        sa.select(
            lead_score_history,
            sa.func.row_number()
            .over(partition_by=history.lead_id, order_by=history.id.desc())
            .label("rank"),
        )
        .where(history.lead_id.in_(lead_ids), history.at <= at)
        .subquery()
    )
    rows = await conn.execute(sa.select(ranked).where(ranked.c.rank == 1))
    return {row.lead_id: row for row in rows}


@dataclass(frozen=True, slots=True)
class LeadFilter:
    owner_id: str
    stages: tuple[str, ...] = ()
    integration_id: str = ""
    contact_id: str = ""
    min_score: int = 0
    query: str = ""

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = [leads.c.owner_id == self.owner_id]
        if self.stages:
            clauses.append(leads.c.stage.in_(self.stages))
        if self.integration_id:
            clauses.append(leads.c.integration_id == self.integration_id)
        if self.contact_id:
            clauses.append(leads.c.contact_id == self.contact_id)
        if self.min_score:
            clauses.append(leads.c.score >= self.min_score)
        if self.query:
            pattern = "%" + _escape_like(search_key(self.query)) + "%"
            clauses.append(leads.c.search_text.like(pattern, escape="\\"))
        return clauses


@dataclass(frozen=True, slots=True)
class Order:
    column: str
    descending: bool


async def list_leads(
    conn: AsyncConnection,
    *,
    where: LeadFilter,
    order: Order,
    after: tuple[Any, str] | None,
    limit: int,
) -> list[Row[Any]]:
    """One page in `order`, ties broken by id in the same direction, after the keyset `after`."""
    column = leads.c[order.column]
    clauses = where.where()
    if after is not None:
        key = sa.tuple_(column, leads.c.id)
        bound = sa.tuple_(sa.literal(after[0], column.type), sa.literal(after[1], leads.c.id.type))
        clauses.append(key < bound if order.descending else key > bound)
    sort = (
        (column.desc(), leads.c.id.desc()) if order.descending else (column.asc(), leads.c.id.asc())
    )
    return list(await conn.execute(sa.select(leads).where(*clauses).order_by(*sort).limit(limit)))


async def count_leads(conn: AsyncConnection, *, where: LeadFilter) -> int:
    return int(
        (
            await conn.execute(sa.select(sa.func.count()).select_from(leads).where(*where.where()))
        ).scalar_one()
    )


async def leads_changed_since(
    conn: AsyncConnection,
    *,
    owner_id: str,
    since: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row[Any]]:
    """The owner's leads changed after `since`, oldest change first, after the keyset `after`."""
    clauses = [leads.c.owner_id == owner_id, leads.c.updated_at > since]
    if after is not None:
        bound = sa.tuple_(
            sa.literal(after[0], leads.c.updated_at.type), sa.literal(after[1], leads.c.id.type)
        )
        clauses.append(sa.tuple_(leads.c.updated_at, leads.c.id) > bound)
    return list(
        await conn.execute(
            sa.select(leads).where(*clauses).order_by(leads.c.updated_at, leads.c.id).limit(limit)
        )
    )


async def leads_due_for_recency(
    conn: AsyncConnection, *, now: datetime, limit: int
) -> list[Row[Any]]:
    return list(
        await conn.execute(
            sa.select(leads.c.owner_id, leads.c.contact_id)
            .where(leads.c.recency_check_at <= now)
            .order_by(leads.c.recency_check_at)
            .limit(limit)
        )
    )


async def leads_scored_by_other_models(
    conn: AsyncConnection, *, owner_id: str, version: str, limit: int
) -> list[Row[Any]]:
    return list(
        await conn.execute(
            sa.select(leads.c.id, leads.c.contact_id)
            .where(leads.c.owner_id == owner_id, leads.c.model_version != version)
            .order_by(leads.c.id)
            .limit(limit)
        )
    )


async def labelled_leads(conn: AsyncConnection, *, owner_id: str) -> list[Row[Any]]:
    return list(
        await conn.execute(
            sa.select(
                leads.c.stage, leads.c.stage_overridden, leads.c.owner_label, leads.c.features
            ).where(
                leads.c.owner_id == owner_id,
                sa.or_(leads.c.stage_overridden, leads.c.owner_label != ""),
            )
        )
    )


def search_key(*texts: str) -> str:
    """Text as ListLeads' `query` matches it: case-folded, with yo read as ye."""
    return "\n".join(" ".join(t.split()) for t in texts).casefold().replace("ё", "е")  # noqa: RUF001


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- owner models -----------------------------------------------------------------------------


async def owner_model(conn: AsyncConnection, *, owner_id: str) -> Row[Any] | None:
    return (
        await conn.execute(sa.select(owner_models).where(owner_models.c.owner_id == owner_id))
    ).first()


async def note_label_change(
    conn: AsyncConnection, *, owner_id: str, default_model: dict[str, Any], now: datetime
) -> None:
    """Record that the owner's labels changed, so the trainer refits their model."""
    statement = insert(owner_models).values(
        owner_id=owner_id, model=default_model, label_version=1, updated_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["owner_id"],
            set_={"label_version": owner_models.c.label_version + 1, "updated_at": now},
        )
    )


async def owners_needing_training(conn: AsyncConnection, *, limit: int) -> list[str]:
    rows = await conn.execute(
        sa.select(owner_models.c.owner_id)
        .where(
            sa.or_(
                owner_models.c.label_version > owner_models.c.trained_label_version,
                owner_models.c.rescore_pending,
            )
        )
        .order_by(owner_models.c.updated_at)
        .limit(limit)
    )
    return [row.owner_id for row in rows]


async def claim_owner_model(conn: AsyncConnection, *, owner_id: str) -> Row[Any] | None:
    """The owner's model row, locked; None when another instance is training it right now."""
    return (
        await conn.execute(
            sa.select(owner_models)
            .where(owner_models.c.owner_id == owner_id)
            .with_for_update(skip_locked=True)
        )
    ).first()


async def store_owner_model(
    conn: AsyncConnection,
    *,
    owner_id: str,
    model: dict[str, Any],
    fits: int,
    trained_label_version: int,
    rescore_pending: bool,
    now: datetime,
) -> None:
    await conn.execute(
        sa.update(owner_models)
        .where(owner_models.c.owner_id == owner_id)
        .values(
            model=model,
            fits=fits,
            trained_label_version=trained_label_version,
            rescore_pending=rescore_pending,
            updated_at=now,
        )
    )


async def finish_rescoring(conn: AsyncConnection, *, owner_id: str, version: str) -> None:
    await conn.execute(
        sa.update(owner_models)
        .where(
            owner_models.c.owner_id == owner_id,
            owner_models.c.model["version"].astext == version,
        )
        .values(rescore_pending=False)
    )


# --- outbox -----------------------------------------------------------------------------------


async def oldest_unpublished(conn: AsyncConnection, *, subject: str) -> datetime | None:
    value = (
        await conn.execute(
            sa.select(sa.func.min(OUTBOX.c.created_at)).where(
                OUTBOX.c.published_at.is_(None), OUTBOX.c.subject == subject
            )
        )
    ).scalar_one_or_none()
    return value if isinstance(value, datetime) else None

"""`save_user_info`: facts about a contact, merged over time (notes accumulate, other facts are
replaced), stored with the `agent.user_info.saved` event that leads scores from."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from inbetwin.events.v1 import agent_events_pb2
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.agent.tables import contact_facts
from services.kit.events import new_event
from services.kit.outbox import add_event


def merge(saved: dict[str, str], learned: dict[str, str]) -> dict[str, str]:
    merged = dict(saved)
    for key, value in learned.items():
        value = value.strip()
        if key == "notes" and saved.get("notes") and value not in saved["notes"]:
            merged["notes"] = f"{saved['notes']}\n{value}"[-4000:]
        else:
            merged[key] = value
    return merged


async def save(
    conn: AsyncConnection,
    *,
    owner_id: str,
    contact_id: str,
    message_id: str,
    learned: dict[str, Any],
) -> dict[str, str]:
    """Merge and store; returns the contact's facts after the merge."""
    row = (
        await conn.execute(
            sa.select(contact_facts.c.facts)
            .where(contact_facts.c.owner_id == owner_id, contact_facts.c.contact_id == contact_id)
            .with_for_update()
        )
    ).first()
    facts = merge(dict(row.facts) if row else {}, {k: str(v) for k, v in learned.items()})
    await conn.execute(
        insert(contact_facts)
        .values(owner_id=owner_id, contact_id=contact_id, facts=facts)
        .on_conflict_do_update(
            index_elements=["owner_id", "contact_id"],
            set_={"facts": facts, "updated_at": sa.func.now()},
        )
    )
    await add_event(
        conn,
        new_event(
            agent_events_pb2.UserInfoSaved,
            owner_id=owner_id,
            contact_id=contact_id,
            facts=facts,
            source_message_id=message_id,
        ),
    )
    return facts

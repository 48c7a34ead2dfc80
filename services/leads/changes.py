"""Writing a lead: from its features and model to its row, its score history and lead.updated.

Every path that changes a lead (bus events, the owner's updates, a retrained model, recency)
goes through `apply_change` inside the transaction holding the contact's lock, so a change is
stored, recorded in the history and announced on the bus together, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from inbetwin.events.v1 import leads_events_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit.events import new_event
from services.kit.outbox import add_event
from services.leads import repository
from services.leads.features import FeatureSet, compute_features
from services.leads.scoring import DEFAULT_MODEL, ScoringModel
from services.leads.stages import Stage, automatic_stage


class Cause(StrEnum):
    CONVERSATION = "conversation"
    FACT_SAVED = "fact_saved"
    HANDOFF = "handoff"
    OWNER_UPDATE = "owner_update"
    MODEL_UPDATED = "model_updated"
    RECENCY = "recency"
    CONTACT_UPDATED = "contact_updated"


# Columns whose change is a change of the lead (and so bumps its version and is announced).
_TRACKED = (
    "integration_id",
    "platform",
    "display_name",
    "score",
    "stage",
    "stage_overridden",
    "owner_label",
    "notes",
    "features",
    "model",
    "last_activity_at",
    "first_activity_at",
)


@dataclass(frozen=True, slots=True)
class LeadChange:
    lead: Row[Any]
    previous_score: int
    previous_stage: str
    """Empty for a new lead."""
    cause: Cause


@dataclass(frozen=True, slots=True)
class Profile:
    integration_id: str
    platform: str
    display_name: str


async def current_model(conn: AsyncConnection, *, owner_id: str) -> ScoringModel:
    row = await repository.owner_model(conn, owner_id=owner_id)
    return ScoringModel.from_json(row.model) if row is not None else DEFAULT_MODEL


def scored_values(
    features: FeatureSet, model: ScoringModel, *, owner_stage: Stage | None
) -> dict[str, Any]:
    """The columns that follow from features and model; `owner_stage` is the owner's override."""
    score = model.score(features.values()).score
    stage = owner_stage or automatic_stage(features, score)
    return {
        "score": score,
        "stage": stage.value,
        "features": features.to_json(),
        "model": model.to_json(),
        "model_version": model.version,
        "last_activity_at": features.last_activity_at,
        "first_activity_at": features.first_activity_at,
        "recency_check_at": features.recency_changes_at,
    }


def owner_stage(lead: Row[Any] | None) -> Stage | None:
    return Stage(lead.stage) if lead is not None and lead.stage_overridden else None


async def apply_change(
    conn: AsyncConnection,
    *,
    existing: Row[Any] | None,
    owner_id: str,
    contact_id: str,
    values: dict[str, Any],
    cause: Cause,
    now: datetime,
) -> LeadChange | None:
    """Insert or update the lead; None when nothing a reader can see changed."""
    values = {
        **values,
        "search_text": repository.search_key(
            values.get("display_name", existing.display_name if existing is not None else ""),
            values.get("notes", existing.notes if existing is not None else ""),
        ),
    }
    if existing is None:
        lead = await repository.insert_lead(
            conn,
            owner_id=owner_id,
            contact_id=contact_id,
            values={**values, "updated_at": now, "last_cause": cause.value},
        )
        change = LeadChange(lead, 0, "", cause)
    else:
        if all(values[k] == existing._mapping[k] for k in _TRACKED if k in values):
            if (
                values.get("recency_check_at", existing.recency_check_at)
                != existing.recency_check_at
            ):
                await repository.update_lead_quietly(
                    conn, lead_id=existing.id, recency_check_at=values["recency_check_at"]
                )
            return None
        lead = await repository.update_lead(
            conn,
            lead_id=existing.id,
            values={
                **values,
                "updated_at": max(now, existing.updated_at),
                "last_cause": cause.value,
            },
        )
        change = LeadChange(lead, existing.score, existing.stage, cause)
    if existing is None or (lead.score, lead.stage) != (existing.score, existing.stage):
        await repository.append_history(
            conn,
            lead_id=lead.id,
            score=lead.score,
            stage=lead.stage,
            cause=cause.value,
            at=lead.updated_at,
        )
    await add_event(conn, lead_updated_event(change))
    return change


def lead_updated_event(change: LeadChange) -> leads_events_pb2.LeadUpdated:
    lead = change.lead
    event = new_event(
        leads_events_pb2.LeadUpdated,
        owner_id=lead.owner_id,
        lead_id=lead.id,
        contact_id=lead.contact_id,
        score=lead.score,
        stage=lead.stage,
        previous_score=change.previous_score,
        previous_stage=change.previous_stage,
        cause=change.cause.value,
        integration_id=lead.integration_id,
    )
    event.occur_time.FromDatetime(lead.updated_at)
    event.update_time.FromDatetime(lead.updated_at)
    return event


async def refresh_contact(
    conn: AsyncConnection, *, owner_id: str, contact_id: str, cause: Cause, now: datetime
) -> LeadChange | None:
    """Recompute a contact's lead from all its recorded signals. The caller holds the contact's
    lock. No lead until the contact has a message: signals that come first are kept for then."""
    signals = await repository.load_signals(conn, owner_id=owner_id, contact_id=contact_id)
    if not signals.messages:
        return None
    existing = await repository.lead_by_contact(
        conn, owner_id=owner_id, contact_id=contact_id, lock=True
    )
    profile = await _profile(conn, owner_id=owner_id, contact_id=contact_id)
    model = await current_model(conn, owner_id=owner_id)
    values = scored_values(compute_features(signals, now), model, owner_stage=owner_stage(existing))
    values.update(
        integration_id=profile.integration_id,
        platform=profile.platform,
        display_name=profile.display_name,
    )
    return await apply_change(
        conn,
        existing=existing,
        owner_id=owner_id,
        contact_id=contact_id,
        values=values,
        cause=cause,
        now=now,
    )


async def _profile(conn: AsyncConnection, *, owner_id: str, contact_id: str) -> Profile:
    row = await repository.contact_profile(conn, owner_id=owner_id, contact_id=contact_id)
    integration = row.integration_id if row is not None else ""
    if not integration:
        integration = await repository.contact_integration(
            conn, owner_id=owner_id, contact_id=contact_id
        )
    if row is None:
        return Profile(integration, "", "")
    return Profile(integration, row.platform, row.display_name)

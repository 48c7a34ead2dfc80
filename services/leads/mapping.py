"""Rows to protos: a lead (basic or full view), its breakdown and its score history."""

from __future__ import annotations

from typing import Any

from inbetwin.leads.v1 import lead_pb2
from sqlalchemy.engine import Row

from services.leads.features import EvidenceKind, FactorKind, FeatureSet
from services.leads.scoring import ModelKind, ScoringModel
from services.leads.stages import Stage

STAGE_TO_PROTO = {
    Stage.NEW: lead_pb2.LEAD_STAGE_NEW,
    Stage.ENGAGED: lead_pb2.LEAD_STAGE_ENGAGED,
    Stage.QUALIFIED: lead_pb2.LEAD_STAGE_QUALIFIED,
    Stage.HOT: lead_pb2.LEAD_STAGE_HOT,
    Stage.WON: lead_pb2.LEAD_STAGE_WON,
    Stage.LOST: lead_pb2.LEAD_STAGE_LOST,
}
STAGE_FROM_PROTO = {number: stage for stage, number in STAGE_TO_PROTO.items()}
LABEL_TO_PROTO = {
    "": lead_pb2.OWNER_LABEL_UNSPECIFIED,
    "good_lead": lead_pb2.OWNER_LABEL_GOOD_LEAD,
    "not_a_lead": lead_pb2.OWNER_LABEL_NOT_A_LEAD,
}
LABEL_FROM_PROTO = {number: label for label, number in LABEL_TO_PROTO.items()}
_FACTOR_TO_PROTO = {
    FactorKind.ENGAGEMENT: lead_pb2.SCORE_FACTOR_KIND_ENGAGEMENT,
    FactorKind.INTENT: lead_pb2.SCORE_FACTOR_KIND_INTENT,
    FactorKind.QUALIFICATION: lead_pb2.SCORE_FACTOR_KIND_QUALIFICATION,
    FactorKind.SENTIMENT: lead_pb2.SCORE_FACTOR_KIND_SENTIMENT,
    FactorKind.HANDOFF: lead_pb2.SCORE_FACTOR_KIND_HANDOFF,
}
_EVIDENCE_TO_PROTO = {
    EvidenceKind.MESSAGE: lead_pb2.EVIDENCE_KIND_MESSAGE,
    EvidenceKind.FACT: lead_pb2.EVIDENCE_KIND_FACT,
    EvidenceKind.HANDOFF: lead_pb2.EVIDENCE_KIND_HANDOFF,
}
_MODEL_TO_PROTO = {
    ModelKind.DEFAULT_WEIGHTS: lead_pb2.SCORING_MODEL_KIND_DEFAULT_WEIGHTS,
    ModelKind.OWNER_TUNED: lead_pb2.SCORING_MODEL_KIND_OWNER_TUNED,
}
CAUSE_TO_PROTO = {
    "conversation": lead_pb2.LEAD_CHANGE_CAUSE_CONVERSATION,
    "fact_saved": lead_pb2.LEAD_CHANGE_CAUSE_FACT_SAVED,
    "handoff": lead_pb2.LEAD_CHANGE_CAUSE_HANDOFF,
    "owner_update": lead_pb2.LEAD_CHANGE_CAUSE_OWNER_UPDATE,
    "model_updated": lead_pb2.LEAD_CHANGE_CAUSE_MODEL_UPDATED,
    "recency": lead_pb2.LEAD_CHANGE_CAUSE_RECENCY,
    "contact_updated": lead_pb2.LEAD_CHANGE_CAUSE_CONTACT_UPDATED,
}


def stage_proto(stage: str) -> lead_pb2.LeadStage:
    return STAGE_TO_PROTO[Stage(stage)] if stage else lead_pb2.LEAD_STAGE_UNSPECIFIED


def lead_to_proto(row: Row[Any], *, full: bool) -> lead_pb2.Lead:
    model = ScoringModel.from_json(row.model)
    features = FeatureSet.from_json(row.features)
    scored = model.score(features.values())
    lead = lead_pb2.Lead(
        id=row.id,
        contact_id=row.contact_id,
        integration_id=row.integration_id,
        platform=row.platform,
        display_name=row.display_name,
        score=row.score,
        stage=stage_proto(row.stage),
        stage_overridden=row.stage_overridden,
        owner_label=LABEL_TO_PROTO[row.owner_label],
        notes=row.notes,
        model=lead_pb2.ScoringModel(
            kind=_MODEL_TO_PROTO[model.kind],
            version=model.version,
            trained_on_labels=model.trained_on,
            baseline=round(scored.baseline, 4),
        ),
    )
    if model.trained_at is not None:
        lead.model.train_time.FromDatetime(model.trained_at)
    lead.last_activity_time.FromDatetime(row.last_activity_at)
    lead.create_time.FromDatetime(row.first_activity_at)
    lead.update_time.FromDatetime(row.updated_at)
    if full:
        for feature in features.features:
            factor = lead.factors.add(
                kind=_FACTOR_TO_PROTO[feature.kind],
                value=feature.value,
                weight=model.weights[feature.kind],
                contribution=round(scored.contributions[feature.kind], 4),
                summary=feature.summary,
            )
            for item in feature.evidence:
                evidence = factor.evidence.add(
                    kind=_EVIDENCE_TO_PROTO[item.kind],
                    message_id=item.message_id,
                    fact_key=item.fact_key,
                    handoff_id=item.handoff_id,
                    signal=item.signal,
                    excerpt=item.excerpt,
                )
                evidence.occur_time.FromDatetime(item.occur_at)
    return lead


def history_to_proto(row: Row[Any]) -> lead_pb2.ScorePoint:
    point = lead_pb2.ScorePoint(
        score=row.score, stage=stage_proto(row.stage), cause=CAUSE_TO_PROTO[row.cause]
    )
    point.time.FromDatetime(row.at)
    return point

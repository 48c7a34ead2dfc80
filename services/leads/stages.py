"""Funnel stages and the automatic staging rules (the owner's choice always wins over them)."""

from __future__ import annotations

from enum import StrEnum

from services.leads.features import FactorKind, FeatureSet


class Stage(StrEnum):
    NEW = "new"
    ENGAGED = "engaged"
    QUALIFIED = "qualified"
    HOT = "hot"
    WON = "won"
    LOST = "lost"


OWNER_ONLY = frozenset({Stage.WON, Stage.LOST})

HOT_SCORE = 60  # with purchase or meeting intent
VERY_HOT_SCORE = 80  # whatever the intent
QUALIFIED_AT = 0.5  # qualification value: e.g. budget and need, or need, timeline and contact
ENGAGED_MESSAGES = 3


def automatic_stage(features: FeatureSet, score: int) -> Stage:
    """NEW until the contact talks, ENGAGED once they reply, QUALIFIED with enough facts, HOT with
    a high score and a wish to buy or meet."""
    if features.inbound_count == 0:
        return Stage.NEW
    if score >= VERY_HOT_SCORE or (features.strong_intent and score >= HOT_SCORE):
        return Stage.HOT
    if features[FactorKind.QUALIFICATION].value >= QUALIFIED_AT:
        return Stage.QUALIFIED
    if features.replies >= 1 or features.inbound_count >= ENGAGED_MESSAGES:
        return Stage.ENGAGED
    return Stage.NEW

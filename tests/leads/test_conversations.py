"""Cold, warm and hot conversations in English and Russian, fed to a real leads server as bus
events: their scores, stages and explained breakdowns."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from inbetwin.leads.v1 import lead_pb2

from services.kit.bus import EventBus
from tests.leads.conftest import Stub, lead_of, publish, settle
from tests.leads.conversations import (
    Conversation,
    cold_en,
    cold_ru,
    hot_en,
    hot_ru,
    warm_en,
    warm_ru,
)

FACTOR = lead_pb2.ScoreFactorKind


def factor(lead: lead_pb2.Lead, kind: int) -> lead_pb2.ScoreFactor:
    return next(f for f in lead.factors if f.kind == kind)


async def scored(
    stub: Stub, bus: EventBus, build: Callable[[Conversation], Conversation]
) -> tuple[Conversation, lead_pb2.Lead]:
    conversation = build(Conversation())
    await publish(bus, conversation.events)
    await settle(bus)
    found = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert found is not None
    return conversation, found.lead


def assert_explained(lead: lead_pb2.Lead) -> None:
    """Five factors in contract order whose contributions add up to the score."""
    assert [f.kind for f in lead.factors] == [
        FACTOR.SCORE_FACTOR_KIND_ENGAGEMENT,
        FACTOR.SCORE_FACTOR_KIND_INTENT,
        FACTOR.SCORE_FACTOR_KIND_QUALIFICATION,
        FACTOR.SCORE_FACTOR_KIND_SENTIMENT,
        FACTOR.SCORE_FACTOR_KIND_HANDOFF,
    ]
    total = lead.model.baseline + sum(f.contribution for f in lead.factors)
    assert lead.score == max(0, min(100, round(total)))
    for f in lead.factors:
        assert f.contribution == pytest.approx(f.weight * f.value, abs=1e-3)
        assert f.summary
        assert len(f.evidence) <= 10
    assert lead.model.kind == lead_pb2.SCORING_MODEL_KIND_DEFAULT_WEIGHTS
    assert lead.model.version == "default-1"


@pytest.mark.parametrize(("build", "expected"), [(cold_en, 3), (cold_ru, 2)])
async def test_cold_conversation_scores_low_and_stays_new(
    stub: Stub, bus: EventBus, build: Callable[[Conversation], Conversation], expected: int
) -> None:
    conversation, lead = await scored(stub, bus, build)
    assert_explained(lead)
    assert lead.score == expected
    assert lead.stage == lead_pb2.LEAD_STAGE_NEW
    assert lead.display_name == "Anna Petrova"
    assert lead.platform == "telegram"
    assert lead.integration_id == conversation.integration_id
    assert factor(lead, FACTOR.SCORE_FACTOR_KIND_INTENT).value == 0
    assert factor(lead, FACTOR.SCORE_FACTOR_KIND_INTENT).summary == "No buying signals yet"
    engagement = factor(lead, FACTOR.SCORE_FACTOR_KIND_ENGAGEMENT)
    assert engagement.summary.startswith("1 message from the contact, no replies to ours")
    assert engagement.evidence[0].message_id == conversation.message_ids[0]


@pytest.mark.parametrize(("build", "expected"), [(warm_en, 35), (warm_ru, 35)])
async def test_warm_conversation_is_engaged_with_pricing_and_a_need(
    stub: Stub, bus: EventBus, build: Callable[[Conversation], Conversation], expected: int
) -> None:
    conversation, lead = await scored(stub, bus, build)
    assert_explained(lead)
    assert lead.score == expected
    assert lead.stage == lead_pb2.LEAD_STAGE_ENGAGED
    intent = factor(lead, FACTOR.SCORE_FACTOR_KIND_INTENT)
    assert intent.value == pytest.approx(0.25)
    assert intent.summary == "Asked about pricing"
    assert {e.signal for e in intent.evidence} == {"pricing"}
    first_message = conversation.message_ids[0]
    assert first_message in {e.message_id for e in intent.evidence}
    qualification = factor(lead, FACTOR.SCORE_FACTOR_KIND_QUALIFICATION)
    assert [(e.kind, e.fact_key, e.signal) for e in qualification.evidence] == [
        (lead_pb2.EVIDENCE_KIND_FACT, "need", "need")
    ]
    engagement = factor(lead, FACTOR.SCORE_FACTOR_KIND_ENGAGEMENT)
    assert "3 messages from the contact, 2 replies to ours" in engagement.summary
    assert factor(lead, FACTOR.SCORE_FACTOR_KIND_SENTIMENT).value > 0


@pytest.mark.parametrize(("build", "expected"), [(hot_en, 88), (hot_ru, 88)])
async def test_hot_conversation_is_hot_with_every_reason_shown(
    stub: Stub, bus: EventBus, build: Callable[[Conversation], Conversation], expected: int
) -> None:
    conversation, lead = await scored(stub, bus, build)
    assert_explained(lead)
    assert lead.score == expected
    assert lead.stage == lead_pb2.LEAD_STAGE_HOT
    second, third = conversation.message_ids[2], conversation.message_ids[4]
    intent = factor(lead, FACTOR.SCORE_FACTOR_KIND_INTENT)
    assert intent.value == 1.0
    signals = {(e.signal, e.message_id) for e in intent.evidence}
    assert {("purchase", second), ("meeting", second), ("purchase", third)} <= signals
    assert {e.signal for e in intent.evidence} == {"pricing", "purchase", "meeting", "urgency"}
    assert intent.evidence[0].signal == "purchase"  # strongest first
    qualification = factor(lead, FACTOR.SCORE_FACTOR_KIND_QUALIFICATION)
    assert qualification.value == 1.0
    facts = {e.fact_key: e for e in qualification.evidence}
    assert set(facts) >= {"budget", "need", "timeline", "authority"}
    assert facts["budget"].message_id == third  # learned from the third message
    assert facts["need"].message_id == second  # unchanged since the second
    handoff = factor(lead, FACTOR.SCORE_FACTOR_KIND_HANDOFF)
    assert handoff.value == 1.0
    assert handoff.evidence[0].kind == lead_pb2.EVIDENCE_KIND_HANDOFF
    assert handoff.evidence[0].handoff_id
    assert handoff.evidence[0].signal == "agent_called_operator"


async def test_hot_beats_warm_beats_cold(stub: Stub, bus: EventBus) -> None:
    scores = [(await scored(stub, bus, build))[1].score for build in (cold_en, warm_en, hot_en)]
    assert scores == sorted(scores)
    assert scores[0] < 15 < 25 < scores[1] < 60 < 80 < scores[2]

# ruff: noqa: RUF001 - Russian phrases are Cyrillic on purpose
"""The scoring rules as pure functions: intent lexicon, features, models, training."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.leads.features import (
    FactorKind,
    FeatureSet,
    compute_features,
    current_facts,
    recency_multiplier,
    reply_speed,
)
from services.leads.intents import Intent, detect
from services.leads.scoring import DEFAULT_MODEL, ModelKind, ScoringModel
from services.leads.signals import (
    Author,
    ContactSignals,
    FactSnapshot,
    Message,
)
from services.leads.stages import Stage
from services.leads.training import Example, TrainingPolicy, fit, label_of, solve

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How much does it cost?", {Intent.PRICING}),
        ("Сколько стоит стрижка?", {Intent.PRICING}),
        ("А какая цена?", {Intent.PRICING}),
        ("Есть прайс или скидки?", {Intent.PRICING}),
        ("We want to buy 10 licences", {Intent.PURCHASE}),
        ("Хочу купить абонемент", {Intent.PURCHASE}),
        ("Как оформить заказ?", {Intent.PURCHASE}),
        ("Выставите счёт, пожалуйста", {Intent.PURCHASE}),
        ("Can we schedule a demo?", {Intent.MEETING}),
        ("Давайте созвонимся", {Intent.MEETING}),
        ("Запишите меня на консультацию", {Intent.MEETING}),
        ("I need it today, it's urgent", {Intent.URGENCY}),
        ("Нужно срочно, завтра уже поздно", {Intent.URGENCY}),
        ("Not interested, thanks", {Intent.NOT_INTERESTED}),
        ("Спасибо, уже не актуально", {Intent.NOT_INTERESTED}),
        ("I don't want to buy anything", set()),
        ("Я не хочу покупать, просто спросить", set()),
        ("Не подскажете, где купить?", {Intent.PURCHASE}),  # a comma breaks the negation
        ("In order to understand, what does it do?", set()),
        ("Hello! Nice weather.", set()),
        ("Привет, это магазин?", set()),
    ],
)
def test_intent_lexicon(text: str, expected: set[Intent]) -> None:
    assert {hit.intent for hit in detect(text)} == expected


def test_an_excerpt_is_cut_around_the_signal() -> None:
    text = "word " * 100 + "what is the price of the premium plan " + "word " * 100
    (hit,) = detect(text)
    assert "price" in hit.excerpt
    assert hit.excerpt.startswith("…")
    assert hit.excerpt.endswith("…")
    assert len(hit.excerpt) <= 200


def test_reply_speed_and_recency_steps() -> None:
    assert reply_speed(None) == 0
    assert reply_speed(timedelta(minutes=3)) == 1.0
    assert reply_speed(timedelta(minutes=20)) == 0.8
    assert reply_speed(timedelta(days=3)) == 0.15
    assert [recency_multiplier(d) for d in (0, 3, 30, 90)] == [1.0, 1.0, 0.25, 0.25]
    assert 0.25 < recency_multiplier(16) < 1.0


def _message(text: str, minutes: int, *, inbound: bool = True) -> Message:
    return Message(
        str(uuid.uuid4()),
        inbound,
        Author.CONTACT if inbound else Author.AGENT,
        text,
        NOW - timedelta(minutes=minutes),
    )


def test_facts_are_the_latest_snapshot_with_the_first_source_of_each_value() -> None:
    first = FactSnapshot("e1", {"need": "CRM"}, "m1", NOW - timedelta(hours=3))
    second = FactSnapshot("e2", {"need": "CRM", "budget": "1000"}, "m2", NOW - timedelta(hours=2))
    third = FactSnapshot(
        "e3", {"need": "CRM and telephony", "budget": "1000"}, "m3", NOW - timedelta(hours=1)
    )
    for order in itertools.permutations([first, second, third]):
        facts, sources = current_facts(order)
        assert facts == {"need": "CRM and telephony", "budget": "1000"}
        assert {k: s.source_message_id for k, s in sources.items()} == {
            "need": "m3",
            "budget": "m2",
        }


def test_no_more_than_ten_pieces_of_evidence_strongest_first() -> None:
    messages = tuple(
        _message(f"How much is plan {i}? I want to buy it today", 100 - i) for i in range(12)
    )
    features = compute_features(ContactSignals(messages=messages), NOW)
    intent = features[FactorKind.INTENT]
    assert len(intent.evidence) == 10
    strengths = [e.strength for e in intent.evidence]
    assert strengths == sorted(strengths, reverse=True)
    assert intent.evidence[0].signal == "purchase"


def test_features_survive_their_json_round_trip() -> None:
    messages = (
        _message("Hi, price?", 30),
        _message("From $5", 29, inbound=False),
        _message("Buy!", 28),
    )
    features = compute_features(ContactSignals(messages=messages), NOW)
    assert FeatureSet.from_json(features.to_json()) == features


def test_default_model_adds_points() -> None:
    scored = DEFAULT_MODEL.score(
        {
            FactorKind.ENGAGEMENT: 1.0,
            FactorKind.INTENT: 0.5,
            FactorKind.QUALIFICATION: 0.0,
            FactorKind.SENTIMENT: -1.0,
            FactorKind.HANDOFF: 0.0,
        }
    )
    assert scored.baseline == 0
    assert scored.contributions[FactorKind.SENTIMENT] == -10
    assert scored.score == round(25 + 17.5 - 10)
    assert sum(DEFAULT_MODEL.weights.values()) == 100


def test_tuned_model_contributions_add_up_to_its_score() -> None:
    model = ScoringModel(
        ModelKind.OWNER_TUNED,
        "owner-1",
        {k: w for k, w in zip(FactorKind, (2.0, -1.0, 1.5, 0.5, 0.0), strict=True)},
        intercept=-2.0,
        trained_on=12,
        trained_at=NOW,
    )
    values = dict(zip(FactorKind, (0.8, 0.6, 1.0, -0.5, 1.0), strict=True))
    scored = model.score(values)
    z = -2.0 + 2.0 * 0.8 - 1.0 * 0.6 + 1.5 * 1.0 + 0.5 * -0.5
    assert scored.baseline + sum(scored.contributions.values()) == pytest.approx(
        100 / (1 + math.exp(-z))
    )
    assert scored.baseline == pytest.approx(100 / (1 + math.exp(2.0)))
    assert scored.contributions[FactorKind.INTENT] < 0 < scored.contributions[FactorKind.ENGAGEMENT]
    assert scored.contributions[FactorKind.HANDOFF] == 0
    assert ScoringModel.from_json(model.to_json()) == model


@pytest.mark.parametrize(
    ("stage", "overridden", "label", "expected"),
    [
        (Stage.WON, True, "not_a_lead", 1),  # the outcome beats the verdict
        (Stage.LOST, True, "good_lead", 0),
        (Stage.HOT, False, "good_lead", 1),
        (Stage.HOT, False, "not_a_lead", 0),
        (Stage.HOT, True, "", 1),  # a stage correction
        (Stage.ENGAGED, True, "", 0),
        (Stage.HOT, False, "", None),  # automatic stages teach nothing
    ],
)
def test_labels_from_owner_actions(
    stage: Stage, overridden: bool, label: str, expected: int | None
) -> None:
    assert label_of(stage=stage, stage_overridden=overridden, owner_label=label) == expected


def test_policy_needs_enough_labels_of_both_kinds() -> None:
    policy = TrainingPolicy(min_labels=4, min_per_class=2)
    values = dict.fromkeys(FactorKind, 0.5)
    assert not policy.enough([Example(values, 1)] * 3 + [Example(values, 0)])
    assert policy.enough([Example(values, 1)] * 2 + [Example(values, 0)] * 2)


def test_fit_without_data_is_the_prior_and_data_moves_it() -> None:
    prior = fit([], regularisation=1.0, version="owner-1", now=NOW)
    assert prior.weights[FactorKind.INTENT] == pytest.approx(2.1)
    assert prior.intercept == pytest.approx(-3.0)
    # Leads with intent never buy; leads with engagement do.
    examples = [
        Example({**dict.fromkeys(FactorKind, 0.0), FactorKind.INTENT: 1.0}, 0) for _ in range(20)
    ] + [
        Example({**dict.fromkeys(FactorKind, 0.0), FactorKind.ENGAGEMENT: 1.0}, 1)
        for _ in range(20)
    ]
    tuned = fit(examples, regularisation=1.0, version="owner-1", now=NOW)
    assert tuned.kind is ModelKind.OWNER_TUNED
    assert tuned.trained_on == 40
    assert tuned.weights[FactorKind.INTENT] < prior.weights[FactorKind.INTENT]
    assert tuned.weights[FactorKind.ENGAGEMENT] > prior.weights[FactorKind.ENGAGEMENT]
    intent_only = tuned.score({**dict.fromkeys(FactorKind, 0.0), FactorKind.INTENT: 1.0}).score
    engaged_only = tuned.score({**dict.fromkeys(FactorKind, 0.0), FactorKind.ENGAGEMENT: 1.0}).score
    assert intent_only < 20 < 80 < engaged_only
    default_intent_only = DEFAULT_MODEL.score(
        {**dict.fromkeys(FactorKind, 0.0), FactorKind.INTENT: 1.0}
    )
    assert default_intent_only.score == 35
    assert fit(examples, regularisation=1.0, version="owner-1", now=NOW) == tuned  # deterministic


def test_solve() -> None:
    assert solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]) == pytest.approx([0.8, 1.4])

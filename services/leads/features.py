"""From a contact's signals to the five factor values, each with a summary and its evidence.

Model-independent: the scoring model (default weights or the owner's tuned one) only weighs
these values. Everything here is a pure function of the signals and `now`, so the same signals
give the same features whatever order their events arrived in. `now` only matters for recency,
which is measured in whole days.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.leads.intents import BUYING_INTENTS, Intent, clip, detect
from services.leads.signals import ContactSignals, FactSnapshot, HandoffRequester, Message

MAX_EVIDENCE = 10


class FactorKind(StrEnum):
    ENGAGEMENT = "engagement"
    INTENT = "intent"
    QUALIFICATION = "qualification"
    SENTIMENT = "sentiment"
    HANDOFF = "handoff"


FACTOR_KINDS = tuple(FactorKind)


class EvidenceKind(StrEnum):
    MESSAGE = "message"
    FACT = "fact"
    HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: EvidenceKind
    signal: str
    excerpt: str
    occur_at: datetime
    strength: float
    message_id: str = ""
    fact_key: str = ""
    handoff_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "signal": self.signal,
            "excerpt": self.excerpt,
            "occur_at": self.occur_at.isoformat(),
            "strength": self.strength,
            "message_id": self.message_id,
            "fact_key": self.fact_key,
            "handoff_id": self.handoff_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            kind=EvidenceKind(data["kind"]),
            signal=str(data["signal"]),
            excerpt=str(data["excerpt"]),
            occur_at=datetime.fromisoformat(data["occur_at"]),
            strength=float(data["strength"]),
            message_id=str(data.get("message_id", "")),
            fact_key=str(data.get("fact_key", "")),
            handoff_id=str(data.get("handoff_id", "")),
        )


@dataclass(frozen=True, slots=True)
class Feature:
    """One factor's strength before weighting (0..1; sentiment -1..1) and why."""

    kind: FactorKind
    value: float
    summary: str
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "value": self.value,
            "summary": self.summary,
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Feature:
        return cls(
            kind=FactorKind(data["kind"]),
            value=float(data["value"]),
            summary=str(data["summary"]),
            evidence=tuple(Evidence.from_json(e) for e in data.get("evidence", [])),
        )


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """The five features plus the facts automatic staging looks at."""

    features: tuple[Feature, ...]
    inbound_count: int
    replies: int
    strong_intent: bool
    last_activity_at: datetime
    first_activity_at: datetime
    recency_changes_at: datetime | None = None
    """When the engagement value will next change with time alone (None: it no longer will)."""
    _by_kind: dict[FactorKind, Feature] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_kind.update({f.kind: f for f in self.features})

    def __getitem__(self, kind: FactorKind) -> Feature:
        return self._by_kind[kind]

    def values(self) -> dict[FactorKind, float]:
        return {f.kind: f.value for f in self.features}

    def to_json(self) -> dict[str, Any]:
        return {
            "features": [f.to_json() for f in self.features],
            "inbound_count": self.inbound_count,
            "replies": self.replies,
            "strong_intent": self.strong_intent,
            "last_activity_at": self.last_activity_at.isoformat(),
            "first_activity_at": self.first_activity_at.isoformat(),
            "recency_changes_at": (
                self.recency_changes_at.isoformat() if self.recency_changes_at else None
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSet:
        changes = data.get("recency_changes_at")
        return cls(
            features=tuple(Feature.from_json(f) for f in data["features"]),
            inbound_count=int(data["inbound_count"]),
            replies=int(data["replies"]),
            strong_intent=bool(data["strong_intent"]),
            last_activity_at=datetime.fromisoformat(data["last_activity_at"]),
            first_activity_at=datetime.fromisoformat(data["first_activity_at"]),
            recency_changes_at=datetime.fromisoformat(changes) if changes else None,
        )


def compute_features(signals: ContactSignals, now: datetime) -> FeatureSet:
    """The features of a contact with at least one message."""
    messages = signals.ordered_messages
    if not messages:
        raise ValueError("a lead needs at least one message")
    engagement, replies, changes_at = _engagement(messages, now)
    intent, strong = _intent(signals, messages)
    inbound = [m for m in messages if m.inbound]
    return FeatureSet(
        features=(
            engagement,
            intent,
            _qualification(signals.fact_snapshots),
            _sentiment(signals),
            _handoff(signals),
        ),
        inbound_count=len(inbound),
        replies=replies,
        strong_intent=strong,
        last_activity_at=messages[-1].sent_at,
        first_activity_at=messages[0].sent_at,
        recency_changes_at=changes_at,
    )


# --- engagement -------------------------------------------------------------------------------

VOLUME_SATURATION = 6  # inbound messages for full volume
REPLIES_SATURATION = 3  # replies to our messages for full reply credit
RECENCY_FULL_DAYS = 3
RECENCY_ZERO_DAYS = 30
RECENCY_FLOOR = 0.25
_SPEED_STEPS = (
    (timedelta(minutes=5), 1.0),
    (timedelta(minutes=30), 0.8),
    (timedelta(hours=2), 0.6),
    (timedelta(hours=24), 0.35),
)
_SLOW_REPLY = 0.15


def reply_speed(median: timedelta | None) -> float:
    if median is None:
        return 0.0
    return next((score for limit, score in _SPEED_STEPS if median <= limit), _SLOW_REPLY)


def recency_multiplier(days: int) -> float:
    if days <= RECENCY_FULL_DAYS:
        return 1.0
    if days >= RECENCY_ZERO_DAYS:
        return RECENCY_FLOOR
    span = RECENCY_ZERO_DAYS - RECENCY_FULL_DAYS
    return 1.0 - (1.0 - RECENCY_FLOOR) * (days - RECENCY_FULL_DAYS) / span


def _engagement(messages: list[Message], now: datetime) -> tuple[Feature, int, datetime | None]:
    inbound = [m for m in messages if m.inbound]
    reply_times: list[tuple[timedelta, Message]] = []
    last_outbound: Message | None = None
    previous: Message | None = None
    for message in messages:
        if message.inbound and previous is not None and not previous.inbound:
            assert last_outbound is not None
            reply_times.append((message.sent_at - last_outbound.sent_at, message))
        if not message.inbound:
            last_outbound = message
        previous = message
    median = statistics.median_low([t for t, _ in reply_times]) if reply_times else None
    last_seen = inbound[-1].sent_at if inbound else messages[-1].sent_at
    days = max(0, (now - last_seen).days)
    volume = min(1.0, len(inbound) / VOLUME_SATURATION)
    replied = min(1.0, len(reply_times) / REPLIES_SATURATION)
    speed = reply_speed(median)
    recency = recency_multiplier(days)
    value = (0.4 * volume + 0.35 * replied + 0.25 * speed) * recency
    evidence: list[Evidence] = []
    if inbound:
        evidence.append(_message_evidence(inbound[-1], "last_activity", recency))
    if reply_times:
        fastest_time, fastest = min(reply_times, key=lambda pair: (pair[0], pair[1].message_id))
        evidence.append(_message_evidence(fastest, _reply_signal(fastest_time), speed))
    if inbound and inbound[0] is not inbound[-1]:
        evidence.append(_message_evidence(inbound[0], "first_message", volume))
    summary = ", ".join(
        [
            _plural(len(inbound), "message") + " from the contact",
            (_plural(len(reply_times), "reply", "replies") if reply_times else "no replies")
            + " to ours",
            *([f"typically within {_duration(median)}"] if median is not None else []),
            f"last active {_days_ago(days)}",
        ]
    )
    changes_at = None
    if inbound and days < RECENCY_ZERO_DAYS:
        changes_at = last_seen + timedelta(days=max(days + 1, RECENCY_FULL_DAYS + 1))
    feature = Feature(FactorKind.ENGAGEMENT, round(value, 4), summary, _strongest(evidence))
    return feature, len(reply_times), changes_at


def _reply_signal(took: timedelta) -> str:
    return "fast_reply" if took <= timedelta(minutes=30) else "reply"


# --- intent -----------------------------------------------------------------------------------

INTENT_WEIGHTS: dict[Intent, float] = {
    Intent.PRICING: 0.25,
    Intent.PURCHASE: 0.35,
    Intent.MEETING: 0.30,
    Intent.URGENCY: 0.20,
}
REJECTION_WINDOW = 2  # the contact's last messages in which "not interested" cancels intent
REJECTION_FACTOR = 0.25
_INTENT_WORDS = {
    Intent.PRICING: "asked about pricing",
    Intent.PURCHASE: "wants to buy",
    Intent.MEETING: "wants a meeting or call",
    Intent.URGENCY: "is in a hurry",
}


def _intent(signals: ContactSignals, messages: list[Message]) -> tuple[Feature, bool]:
    inbound = [m for m in messages if m.inbound]
    labelled = {a.message_id: a.intents for a in signals.assessments}
    evidence: list[Evidence] = []
    found: set[Intent] = set()
    rejected_in: Message | None = None
    for index, message in enumerate(inbound):
        hits = {hit.intent: hit.excerpt for hit in detect(message.text)}
        for label in labelled.get(message.message_id, ()):
            known = _known_intent(label)
            if known is not None and known not in hits:
                hits[known] = clip(message.text)
        for intent, excerpt in hits.items():
            if intent is Intent.NOT_INTERESTED:
                if index >= len(inbound) - REJECTION_WINDOW:
                    rejected_in = message
                continue
            found.add(intent)
            evidence.append(
                Evidence(
                    EvidenceKind.MESSAGE,
                    intent.value,
                    excerpt,
                    message.sent_at,
                    INTENT_WEIGHTS[intent],
                    message_id=message.message_id,
                )
            )
    value = min(1.0, sum(INTENT_WEIGHTS[i] for i in found))
    words = [_INTENT_WORDS[i] for i in BUYING_INTENTS if i in found]
    summary = ", ".join(words).capitalize() if words else "No buying signals yet"
    if rejected_in is not None:
        value *= REJECTION_FACTOR
        evidence.append(
            Evidence(
                EvidenceKind.MESSAGE,
                Intent.NOT_INTERESTED.value,
                clip(rejected_in.text),
                rejected_in.sent_at,
                1.0,
                message_id=rejected_in.message_id,
            )
        )
        summary += "; then said they are not interested"
    strong = rejected_in is None and bool(found & {Intent.PURCHASE, Intent.MEETING})
    return Feature(FactorKind.INTENT, round(value, 4), summary, _strongest(evidence)), strong


# --- qualification ----------------------------------------------------------------------------

QUALIFICATION_WEIGHTS: dict[str, float] = {
    "budget": 0.30,
    "need": 0.25,
    "timeline": 0.20,
    "authority": 0.15,
    "contact_details": 0.10,
}
CONTACT_DETAIL_KEYS = ("phone", "email")
_EMPTY_VALUES = frozenset({"", "-", "—", "n/a", "na", "none", "unknown", "нет", "неизвестно"})


def current_facts(
    snapshots: Iterable[FactSnapshot],
) -> tuple[dict[str, str], dict[str, FactSnapshot]]:
    """The latest snapshot's facts, and for each the earliest snapshot holding that same value
    (where the agent first learned it): independent of the order snapshots arrived in."""
    ordered = sorted(snapshots, key=lambda s: (s.saved_at, s.event_id))
    if not ordered:
        return {}, {}
    facts = {
        key: value.strip()
        for key, value in ordered[-1].facts.items()
        if value.strip().lower() not in _EMPTY_VALUES
    }
    sources = {
        key: next(s for s in ordered if s.facts.get(key, "").strip() == value)
        for key, value in facts.items()
    }
    return facts, sources


def _qualification(snapshots: tuple[FactSnapshot, ...]) -> Feature:
    facts, sources = current_facts(snapshots)
    evidence: list[Evidence] = []
    known: list[str] = []
    for signal, weight in QUALIFICATION_WEIGHTS.items():
        keys = CONTACT_DETAIL_KEYS if signal == "contact_details" else (signal,)
        present = [key for key in keys if key in facts]
        if not present:
            continue
        known.append(signal.replace("_", " "))
        for key in present:
            source = sources[key]
            evidence.append(
                Evidence(
                    EvidenceKind.FACT,
                    signal,
                    clip(facts[key]),
                    source.saved_at,
                    weight,
                    message_id=source.source_message_id,
                    fact_key=key,
                )
            )
    value = sum(QUALIFICATION_WEIGHTS[s.replace(" ", "_")] for s in known)
    summary = f"{_join(known).capitalize()} known" if known else "Nothing qualifying saved yet"
    return Feature(FactorKind.QUALIFICATION, round(value, 4), summary, _strongest(evidence))


# --- sentiment --------------------------------------------------------------------------------

SENTIMENT_WINDOW = 10  # latest assessed messages that count
SENTIMENT_DECAY = 0.8  # weight of each older message relative to the next newer one
SENTIMENT_EVIDENCE_MIN = 0.3


def _sentiment(signals: ContactSignals) -> Feature:
    def when(message_id: str, assessed_at: datetime) -> datetime:
        message = signals.message(message_id)
        return message.sent_at if message else assessed_at

    latest = sorted(
        signals.assessments,
        key=lambda a: (when(a.message_id, a.assessed_at), a.message_id),
        reverse=True,
    )[:SENTIMENT_WINDOW]
    if not latest:
        return Feature(FactorKind.SENTIMENT, 0.0, "No sentiment assessed yet")
    weights = [SENTIMENT_DECAY**i for i in range(len(latest))]
    clamped = [max(-1.0, min(1.0, a.sentiment)) for a in latest]
    value = sum(w * s for w, s in zip(weights, clamped, strict=True)) / sum(weights)
    evidence = []
    for assessment, sentiment in zip(latest, clamped, strict=True):
        if abs(sentiment) < SENTIMENT_EVIDENCE_MIN:
            continue
        message = signals.message(assessment.message_id)
        evidence.append(
            Evidence(
                EvidenceKind.MESSAGE,
                "positive_tone" if sentiment > 0 else "negative_tone",
                clip(message.text) if message else "",
                when(assessment.message_id, assessment.assessed_at),
                abs(sentiment),
                message_id=assessment.message_id,
            )
        )
    tone = "positive" if value >= 0.15 else "negative" if value <= -0.15 else "neutral"
    summary = f"{tone.capitalize()} tone ({value:+.2f} over {_plural(len(latest), 'message')})"
    return Feature(FactorKind.SENTIMENT, round(value, 4), summary, _strongest(evidence))


# --- handoff ----------------------------------------------------------------------------------

HANDOFF_VALUES: dict[HandoffRequester, float] = {
    HandoffRequester.AGENT_TOOL: 1.0,
    HandoffRequester.OWNER_MANUAL: 0.7,
    HandoffRequester.OWNER_MESSAGE: 0.5,
    HandoffRequester.UNKNOWN: 0.5,
    HandoffRequester.GUARDRAIL: 0.0,
}
_HANDOFF_SIGNALS = {
    HandoffRequester.AGENT_TOOL: "agent_called_operator",
    HandoffRequester.OWNER_MANUAL: "owner_took_over",
    HandoffRequester.OWNER_MESSAGE: "owner_wrote",
    HandoffRequester.UNKNOWN: "handoff",
    HandoffRequester.GUARDRAIL: "guardrail_escalation",
}
_HANDOFF_WORDS = {
    HandoffRequester.AGENT_TOOL: "the agent called a human",
    HandoffRequester.OWNER_MANUAL: "the owner took the conversation over",
    HandoffRequester.OWNER_MESSAGE: "the owner wrote in person",
    HandoffRequester.UNKNOWN: "handed to a human",
    HandoffRequester.GUARDRAIL: "a guardrail escalated (not a buying signal)",
}


def _handoff(signals: ContactSignals) -> Feature:
    if not signals.handoffs:
        return Feature(FactorKind.HANDOFF, 0.0, "No handoff to a human")
    evidence = [
        Evidence(
            EvidenceKind.HANDOFF,
            _HANDOFF_SIGNALS[h.requested_by],
            clip(h.reason),
            h.opened_at,
            HANDOFF_VALUES[h.requested_by],
            handoff_id=h.handoff_id,
        )
        for h in signals.handoffs
    ]
    strongest = max(signals.handoffs, key=lambda h: (HANDOFF_VALUES[h.requested_by], h.handoff_id))
    value = HANDOFF_VALUES[strongest.requested_by]
    state = "resolved" if strongest.resolved_at else "open"
    summary = f"{_HANDOFF_WORDS[strongest.requested_by].capitalize()} ({state})"
    if len(signals.handoffs) > 1:
        summary += f"; {len(signals.handoffs)} handoffs in all"
    return Feature(FactorKind.HANDOFF, value, summary, _strongest(evidence))


# --- helpers ----------------------------------------------------------------------------------


def _message_evidence(message: Message, signal: str, strength: float) -> Evidence:
    return Evidence(
        EvidenceKind.MESSAGE,
        signal,
        clip(message.text),
        message.sent_at,
        strength,
        message_id=message.message_id,
    )


def _known_intent(label: str) -> Intent | None:
    try:
        return Intent(label.strip().lower())
    except ValueError:
        return None


def _strongest(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Strongest first, then newest first; ties broken by ids so the order is stable."""
    ordered = sorted(
        evidence,
        key=lambda e: (
            -e.strength,
            -e.occur_at.timestamp(),
            e.message_id,
            e.fact_key,
            e.handoff_id,
            e.signal,
        ),
    )
    return tuple(ordered[:MAX_EVIDENCE])


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return "a minute"
    if minutes < 90:
        return _plural(minutes, "minute")
    hours = round(minutes / 60)
    return _plural(hours, "hour") if hours < 36 else _plural(round(hours / 24), "day")


def _days_ago(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"

"""Scoring models: the default weights, or an owner's logistic regression, applied to features.

Both explain themselves the same way: a baseline plus one contribution per factor, adding up to
the score before rounding and clamping. The default model is linear in points (`weight` is what
a factor is worth at full strength). An owner-tuned model is `100 * sigmoid(b + sum(w_k * x_k))`;
its contributions split the distance from the baseline `100 * sigmoid(b)` to the score in
proportion to each factor's log-odds `w_k * x_k` (exact for this model: the integrated gradients
along the straight path from "no signal" to the lead's features).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.leads.features import FACTOR_KINDS, FactorKind

DEFAULT_VERSION = "default-1"

# Points each factor is worth at full strength; they add up to 100. Rationale in README.md.
DEFAULT_WEIGHTS: dict[FactorKind, float] = {
    FactorKind.ENGAGEMENT: 25.0,
    FactorKind.INTENT: 35.0,
    FactorKind.QUALIFICATION: 25.0,
    FactorKind.SENTIMENT: 10.0,
    FactorKind.HANDOFF: 5.0,
}


class ModelKind(StrEnum):
    DEFAULT_WEIGHTS = "default_weights"
    OWNER_TUNED = "owner_tuned"


@dataclass(frozen=True, slots=True)
class ScoringModel:
    kind: ModelKind
    version: str
    weights: Mapping[FactorKind, float]
    intercept: float = 0.0
    trained_on: int = 0
    trained_at: datetime | None = None

    def score(self, values: Mapping[FactorKind, float]) -> Scored:
        if self.kind is ModelKind.DEFAULT_WEIGHTS:
            contributions = {k: self.weights[k] * values[k] for k in FACTOR_KINDS}
            return Scored.of(0.0, contributions)
        logits = {k: self.weights[k] * values[k] for k in FACTOR_KINDS}
        baseline = 100.0 * sigmoid(self.intercept)
        total = 100.0 * sigmoid(self.intercept + sum(logits.values()))
        spread = sum(logits.values())
        if abs(spread) < 1e-12:
            return Scored.of(total, dict.fromkeys(FACTOR_KINDS, 0.0))
        share = (total - baseline) / spread
        return Scored.of(baseline, {k: logits[k] * share for k in FACTOR_KINDS})

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "version": self.version,
            "weights": {k.value: w for k, w in self.weights.items()},
            "intercept": self.intercept,
            "trained_on": self.trained_on,
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScoringModel:
        trained_at = data.get("trained_at")
        return cls(
            kind=ModelKind(data["kind"]),
            version=str(data["version"]),
            weights={FactorKind(k): float(w) for k, w in data["weights"].items()},
            intercept=float(data.get("intercept", 0.0)),
            trained_on=int(data.get("trained_on", 0)),
            trained_at=datetime.fromisoformat(trained_at) if trained_at else None,
        )


DEFAULT_MODEL = ScoringModel(ModelKind.DEFAULT_WEIGHTS, DEFAULT_VERSION, DEFAULT_WEIGHTS)


@dataclass(frozen=True, slots=True)
class Scored:
    baseline: float
    contributions: dict[FactorKind, float]
    score: int

    @classmethod
    def of(cls, baseline: float, contributions: dict[FactorKind, float]) -> Scored:
        raw = baseline + sum(contributions.values())
        return cls(baseline, contributions, max(0, min(100, round(raw))))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)

"""Learning an owner's weights from their labels: a small L2-regularised logistic regression.

Labels come from what the owner did with a lead, strongest first: the outcome (WON is 1, LOST is
0), then the verdict (`good_lead` 1, `not_a_lead` 0), then a stage correction (the owner moving a
lead to QUALIFIED or HOT is 1, back to NEW or ENGAGED is 0). Features are the lead's five factor
values. The fit is pulled towards a logistic version of the default weights (the prior), so a
handful of labels bends the defaults instead of replacing them; with many labels the owner's data
wins. Newton's method on six parameters: deterministic, a few milliseconds for thousands of labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.leads.features import FACTOR_KINDS, FactorKind
from services.leads.scoring import DEFAULT_WEIGHTS, ModelKind, ScoringModel, sigmoid
from services.leads.stages import Stage

# The prior: default points mapped onto log-odds, so that a default score s reads as roughly
# sigmoid(6 * (s / 100 - 0.5)): 10 points is about 7 %, 50 is 50 %, 90 is about 92 %.
PRIOR_SLOPE = 6.0
PRIOR_INTERCEPT = -PRIOR_SLOPE / 2
PRIOR_WEIGHTS = {k: PRIOR_SLOPE * w / 100.0 for k, w in DEFAULT_WEIGHTS.items()}
MAX_ITERATIONS = 50
TOLERANCE = 1e-9


class OwnerLabel:
    GOOD_LEAD = "good_lead"
    NOT_A_LEAD = "not_a_lead"


POSITIVE_STAGES = frozenset({Stage.QUALIFIED, Stage.HOT})
NEGATIVE_STAGES = frozenset({Stage.NEW, Stage.ENGAGED})


def label_of(*, stage: Stage, stage_overridden: bool, owner_label: str) -> int | None:
    """The training label the owner's actions give a lead, or None when they give none."""
    if stage_overridden and stage is Stage.WON:
        return 1
    if stage_overridden and stage is Stage.LOST:
        return 0
    if owner_label == OwnerLabel.GOOD_LEAD:
        return 1
    if owner_label == OwnerLabel.NOT_A_LEAD:
        return 0
    if stage_overridden and stage in POSITIVE_STAGES:
        return 1
    if stage_overridden and stage in NEGATIVE_STAGES:
        return 0
    return None


@dataclass(frozen=True, slots=True)
class Example:
    values: dict[FactorKind, float]
    label: int


@dataclass(frozen=True, slots=True)
class TrainingPolicy:
    min_labels: int = 10
    min_per_class: int = 3
    regularisation: float = 1.0

    def enough(self, examples: Sequence[Example]) -> bool:
        positives = sum(e.label for e in examples)
        negatives = len(examples) - positives
        return len(examples) >= self.min_labels and min(positives, negatives) >= self.min_per_class


def fit(
    examples: Sequence[Example], *, regularisation: float, version: str, now: datetime
) -> ScoringModel:
    """The owner-tuned model for these examples."""
    prior = [PRIOR_INTERCEPT, *(PRIOR_WEIGHTS[k] for k in FACTOR_KINDS)]
    rows = [[1.0, *(e.values[k] for k in FACTOR_KINDS)] for e in examples]
    labels = [float(e.label) for e in examples]
    theta = list(prior)
    size = len(theta)
    for _ in range(MAX_ITERATIONS):
        gradient = [regularisation * (theta[j] - prior[j]) for j in range(size)]
        hessian = [[regularisation if i == j else 0.0 for j in range(size)] for i in range(size)]
        for x, y in zip(rows, labels, strict=True):
            p = sigmoid(sum(t * v for t, v in zip(theta, x, strict=True)))
            slope = p * (1.0 - p)
            for i in range(size):
                gradient[i] += (p - y) * x[i]
                for j in range(size):
                    hessian[i][j] += slope * x[i] * x[j]
        step = solve(hessian, gradient)
        theta = [t - s for t, s in zip(theta, step, strict=True)]
        if math.sqrt(sum(s * s for s in step)) < TOLERANCE:
            break
    return ScoringModel(
        kind=ModelKind.OWNER_TUNED,
        version=version,
        weights={k: round(theta[i + 1], 6) for i, k in enumerate(FACTOR_KINDS)},
        intercept=round(theta[0], 6),
        trained_on=len(examples),
        trained_at=now,
    )


def solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix @ x = vector, by Gaussian elimination with partial pivoting (the matrix is
    symmetric positive definite here thanks to the regularisation)."""
    n = len(vector)
    a = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-15:
            raise ArithmeticError("singular system")
        for row in range(col + 1, n):
            factor = a[row][col] / a[col][col]
            for k in range(col, n + 1):
                a[row][k] -= factor * a[col][k]
    x = [0.0] * n
    for row in range(n - 1, -1, -1):
        x[row] = (a[row][n] - sum(a[row][k] * x[k] for k in range(row + 1, n))) / a[row][row]
    return x

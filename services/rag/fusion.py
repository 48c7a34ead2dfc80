"""Reciprocal rank fusion (Cormack et al. 2009): each list adds weight/(k + rank) per item."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60
H = TypeVar("H", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[H]], k: int = K, weights: Sequence[float] | None = None
) -> list[tuple[H, float]]:
    """Items with their fused score, best first, scaled so that first place in every list is 1.

    `weights` (one per list, default 1 each) scale each list's contribution. Ties keep the
    order in which items were first seen, so the result is deterministic.
    """
    if not rankings:
        return []
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[H, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    best = sum(weights) / (k + 1)
    if best <= 0:
        return [(item, 0.0) for item in scores]
    ordered = sorted(scores.items(), key=lambda pair: -pair[1])
    return [(item, score / best) for item, score in ordered]

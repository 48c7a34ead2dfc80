"""Reciprocal rank fusion (Cormack et al. 2009): each list adds 1/(k + rank) per item."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60
H = TypeVar("H", bound=Hashable)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[H]], k: int = K) -> list[tuple[H, float]]:
    """Items with their fused score, best first, scaled so that first place in every list is 1.

    Ties keep the order in which items were first seen, so the result is deterministic.
    """
    if not rankings:
        return []
    scores: dict[H, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    best = len(rankings) / (k + 1)
    ordered = sorted(scores.items(), key=lambda pair: -pair[1])
    return [(item, score / best) for item, score in ordered]

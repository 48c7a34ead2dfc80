"""Bounded full-text candidates: which of a query's lexemes may select rows on their own.

Ranking every chunk that shares any word with the question (an OR-query) costs time in
proportion to the matching rows: tens of thousands at 100k chunks for a question with a common
word. Like BM25's rare terms, the rows worth ranking are those holding the question's rarer
lexemes, or several of its common ones together. `selective_query` builds such a tsquery from
estimated document frequencies so that the GIN index alone narrows the rows to about `budget`;
the OR of every lexeme still ranks them. When the whole OR-query is estimated within budget
(any small knowledge base) it is used as is, and the result equals ranking every match.

Shares come from Postgres's own ANALYZE statistics of `chunks.tsv` (the most common lexemes
and their share of rows; an unlisted lexeme counts half the smallest listed share, as the
planner's tsquery estimator assumes), read once every few minutes per process. They are
table-wide; the rows they apply to are those of the knowledge bases searched, so a small
knowledge base is ranked whole however common its words are elsewhere.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

REFRESH_SECONDS = 300.0
MAX_PAIRS = 24
WIDENING = 8
# Never more than this many times the budget are ranked (the candidates' LIMIT).
CAP_FACTOR = 2

_STATS = sa.text(
    """
    SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS freqs
      FROM pg_stats
     WHERE schemaname = current_schema() AND tablename = 'chunks' AND attname = 'tsv'
    """
)


@dataclass(frozen=True, slots=True)
class TermShares:
    """The estimated share of chunks containing a lexeme (none known: 0 for every lexeme)."""

    shares: dict[str, float] = field(default_factory=dict)
    unlisted: float = 0.0

    def of(self, lexeme: str) -> float:
        return self.shares.get(lexeme, self.unlisted)


def tsquery_lexeme(lexeme: str) -> str:
    """A lexeme as a quoted tsquery operand, taken literally (not normalised again)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def selective_query(
    lexemes: Sequence[str], shares: TermShares, *, rows: float, budget: float
) -> str:
    """A tsquery (text form) matching roughly at most `budget` of `rows` chunks, or the OR of
    every lexeme when that is estimated to be within budget or `rows` are within the cap (all
    of them may then be ranked anyway). Empty when there are no lexemes.

    Clauses, cheapest first: all lexemes together, single lexemes from the rarest, then pairs
    of the remaining common ones; at least the rarest lexeme is always a clause.
    """
    quoted = {lexeme: tsquery_lexeme(lexeme) for lexeme in dict.fromkeys(lexemes)}
    if not quoted:
        return ""
    estimate = {lexeme: rows * shares.of(lexeme) for lexeme in quoted}
    if rows <= CAP_FACTOR * budget or sum(estimate.values()) <= budget:
        return " | ".join(quoted.values())
    by_rarity = sorted(quoted, key=lambda lexeme: estimate[lexeme])
    clauses = []
    if len(by_rarity) > 1:
        clauses.append("(" + " & ".join(quoted[lexeme] for lexeme in by_rarity) + ")")
    spent = 0.0
    common = []
    for lexeme in by_rarity:
        if not spent or spent + estimate[lexeme] <= budget:
            clauses.append(quoted[lexeme])
            spent += estimate[lexeme]
        else:
            common.append(lexeme)
    pairs = sorted(
        itertools.combinations(common, 2), key=lambda pair: estimate[pair[0]] * estimate[pair[1]]
    )
    for first, second in pairs[:MAX_PAIRS]:
        together = rows * shares.of(first) * shares.of(second)
        if spent + together > budget:
            break
        clauses.append(f"({quoted[first]} & {quoted[second]})")
        spent += together
    return " | ".join(clauses)


def widening_queries(
    lexemes: Sequence[str], shares: TermShares, *, rows: float, budget: int
) -> list[str]:
    """Selective queries from narrowest to the OR of every lexeme, to try in turn while too
    few rows match: a lexeme's share is an estimate (an unlisted word may be in no chunk)."""
    tiers: list[str] = []
    for tier_budget in (budget, budget * WIDENING, math.inf):
        query = selective_query(lexemes, shares, rows=rows, budget=tier_budget)
        if not tiers or query != tiers[-1]:
            tiers.append(query)
    return tiers


class TermStatistics:
    """The current `TermShares`, re-read from pg_stats every `refresh` seconds."""

    def __init__(self, refresh: float = REFRESH_SECONDS) -> None:
        self._refresh = refresh
        self._shares = TermShares()
        self._read_at = float("-inf")

    async def shares(self, conn: AsyncConnection) -> TermShares:
        now = time.monotonic()
        if now - self._read_at >= self._refresh:
            self._shares = await _read(conn)
            self._read_at = now
        return self._shares


async def _read(conn: AsyncConnection) -> TermShares:
    row = (await conn.execute(_STATS)).one_or_none()
    if row is None or not row.lexemes:
        # Not analysed yet: the OR-query is used whole (the candidate cap still bounds it).
        return TermShares()
    lexemes = list(row.lexemes)
    # most_common_elem_freqs ends with the minimum, maximum and null-fraction entries.
    freqs = [float(value) for value in row.freqs]
    shares = dict(zip(lexemes, freqs[: len(lexemes)], strict=False))
    unlisted = freqs[len(lexemes)] / 2 if len(freqs) > len(lexemes) else 0.0
    return TermShares(shares, unlisted)

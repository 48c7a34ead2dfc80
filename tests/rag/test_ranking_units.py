"""Pure parts of ranking: weighted fusion, the languages a model covers, and the selective
full-text queries that bound how many chunks are ranked."""

from __future__ import annotations

import pytest

from services.rag.embeddings.languages import LanguageCoverage, coverage_of
from services.rag.fusion import reciprocal_rank_fusion
from services.rag.language import ENGLISH, RUSSIAN
from services.rag.term_stats import (
    TermShares,
    selective_query,
    tsquery_lexeme,
    widening_queries,
)


def test_a_down_weighted_list_only_breaks_ties_of_the_other() -> None:
    fused = reciprocal_rank_fusion([["x", "a"], ["a", "b", "c"]], weights=(0.1, 1.0))
    assert [item for item, _ in fused] == ["a", "b", "c", "x"]
    assert fused[0][1] == pytest.approx((0.1 / 62 + 1 / 61) / (1.1 / 61))
    even = reciprocal_rank_fusion([["x", "a"], ["a", "b"]])
    assert [item for item, _ in even][:2] == ["a", "x"]
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([["a"]], weights=(1.0, 1.0))


def test_models_declare_the_languages_they_cover() -> None:
    english_only = coverage_of("all-MiniLM-L6-v2")
    assert english_only.covers(ENGLISH)
    assert not english_only.covers(RUSSIAN)
    assert coverage_of("sentence-transformers/all-MiniLM-L6-v2") == english_only
    assert coverage_of("text-embedding-3-small").covers(RUSSIAN)
    assert coverage_of("some-unknown-model").covers(RUSSIAN)
    assert coverage_of("all-MiniLM-L6-v2", "English, russian").covers(RUSSIAN)
    assert coverage_of("text-embedding-3-small", "english") == LanguageCoverage(
        frozenset({ENGLISH})
    )
    assert coverage_of("all-MiniLM-L6-v2", "*") == LanguageCoverage(None)


SHARES = TermShares({"year": 0.2, "first": 0.2, "china": 0.03, "mongol": 0.05}, unlisted=0.001)


def test_a_small_knowledge_base_is_searched_with_every_word() -> None:
    lexemes = ["year", "mongol", "invad", "china"]
    assert selective_query(lexemes, SHARES, rows=500, budget=300) == (
        "'year' | 'mongol' | 'invad' | 'china'"
    )
    assert selective_query(lexemes, TermShares(), rows=1_000_000, budget=300) == (
        "'year' | 'mongol' | 'invad' | 'china'"
    )
    assert selective_query([], SHARES, rows=500, budget=300) == ""
    # No more rows than the cap (twice the budget): all of them are ranked, however common
    # the words.
    everywhere = TermShares({"year": 1.0, "first": 1.0})
    assert selective_query(["year", "first"], everywhere, rows=600, budget=300) == (
        "'year' | 'first'"
    )
    assert selective_query(["year", "first"], everywhere, rows=601, budget=300) == (
        "('year' & 'first') | 'year'"
    )


def test_a_large_one_is_narrowed_to_rare_words_and_pairs_of_common_ones() -> None:
    lexemes = ["year", "mongol", "invad", "china", "first"]
    # 100 rows hold "invad"; 3,000 "china", 5,000 "mongol", 20,000 "year" and "first":
    # only "invad" fits alone, then the pairs of the rest by expected rows (china & mongol:
    # 150; china & year: 600 is over budget).
    assert selective_query(lexemes, SHARES, rows=100_000, budget=300) == (
        "('invad' & 'china' & 'mongol' & 'year' & 'first') | 'invad' | ('china' & 'mongol')"
    )
    # The rarest word is always a clause, even over budget.
    assert selective_query(["year", "first"], SHARES, rows=100_000, budget=300) == (
        "('year' & 'first') | 'year'"
    )


def test_queries_widen_up_to_every_word() -> None:
    lexemes = ["year", "mongol", "invad", "china", "first"]
    tiers = widening_queries(lexemes, SHARES, rows=100_000, budget=300)
    assert tiers[0] == selective_query(lexemes, SHARES, rows=100_000, budget=300)
    assert tiers[-1] == "'year' | 'mongol' | 'invad' | 'china' | 'first'"
    assert len(tiers) == len(set(tiers)) == 3
    assert widening_queries(["china"], SHARES, rows=100, budget=300) == ["'china'"]


def test_lexemes_are_quoted_literally() -> None:
    assert tsquery_lexeme("it's") == "'it''s'"
    assert tsquery_lexeme("a\\b") == "'a\\\\b'"

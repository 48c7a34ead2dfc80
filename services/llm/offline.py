"""The offline provider: answers only with the owner's own words, never invented text.

A Q&A pair the question matches exactly (or scores at least `qa_min_score`) is answered with
the pair's answer; otherwise the best document passage is sent as is when it scores at least
`passage_min_score` and contains most of the question's content words. Anything less is
escalated to a human (OFFLINE_NOT_CONFIDENT).
"""

# ruff: noqa: RUF001 - Russian words are the point of this module

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inbetwin.llm.v1 import chat_pb2
from inbetwin.rag.v1 import search_pb2

from services.llm.context import citation_of
from services.llm.drafts import Draft
from services.llm.guardrails.lexicon import words
from services.llm.settings import OFFLINE_MODEL

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "but",
        "do",
        "does",
        "did",
        "i",
        "you",
        "we",
        "it",
        "this",
        "that",
        "what",
        "how",
        "when",
        "where",
        "which",
        "who",
        "can",
        "could",
        "would",
        "will",
        "with",
        "my",
        "your",
        "our",
        "me",
        "us",
        "there",
        "here",
        "please",
        "hi",
        "hello",
        "и",
        "в",
        "во",
        "на",
        "с",
        "со",
        "по",
        "к",
        "ко",
        "у",
        "о",
        "об",
        "от",
        "до",
        "за",
        "из",
        "а",
        "но",
        "или",
        "ли",
        "же",
        "бы",
        "не",
        "да",
        "как",
        "что",
        "где",
        "когда",
        "какой",
        "какая",
        "какие",
        "кто",
        "мне",
        "мы",
        "вы",
        "вам",
        "нам",
        "я",
        "ты",
        "он",
        "она",
        "они",
        "это",
        "этот",
        "эта",
        "есть",
        "ваш",
        "ваша",
        "ваши",
        "пожалуйста",
        "здравствуйте",
        "привет",
        "добрый",
        "день",
        "скажите",
        "подскажите",
    ]
)


@dataclass(frozen=True, slots=True)
class OfflineThresholds:
    qa_min_score: float
    passage_min_score: float
    passage_min_overlap: float


def content_words(text: str) -> set[str]:
    return {w[:6] for w in words(text) if w not in STOP_WORDS and len(w) > 1}


def overlap(question: str, passage: str) -> float:
    """Share of the question's content words (6-letter stems) found in the passage."""
    asked = content_words(question)
    if not asked:
        return 0.0
    return len(asked & content_words(passage)) / len(asked)


def answer_offline(
    question: str,
    hits: Sequence[search_pb2.SearchHit],
    thresholds: OfflineThresholds,
    *,
    fallback: bool = False,
) -> Draft:
    draft = Draft(
        text="",
        finish=chat_pb2.FINISH_REASON_ESCALATED,
        provider=chat_pb2.PROVIDER_OFFLINE,
        model=OFFLINE_MODEL,
        fallback=fallback,
        escalation_reason="OFFLINE_NOT_CONFIDENT",
    )
    for hit in hits:
        if hit.HasField("qa_pair") and (
            hit.qa_pair.exact_match or hit.score >= thresholds.qa_min_score
        ):
            return _answered(draft, hit)
    passages = [hit for hit in hits if hit.HasField("citation")]
    if passages:
        best = passages[0]
        if (
            best.score >= thresholds.passage_min_score
            and overlap(question, best.text) >= thresholds.passage_min_overlap
        ):
            return _answered(draft, best)
    return draft


def _answered(draft: Draft, hit: search_pb2.SearchHit) -> Draft:
    draft.text = hit.text.strip()
    draft.finish = chat_pb2.FINISH_REASON_STOP
    draft.escalation_reason = ""
    draft.citations = [citation_of(hit)]
    return draft

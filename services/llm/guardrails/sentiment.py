"""Offline sentiment and intents of an inbound message, Russian and English.

A lexicon classifier: positive and negative stems, negation flipping the next two words,
intensifiers and exclamation marks adding weight. The score is in [-1, 1]; below -0.2 is
negative, above 0.2 positive. Intents are keyword families (pricing, purchase, meeting,
urgency, complaint) that leads scores from and that the prompt is told about.
"""

# ruff: noqa: RUF001 - Russian words are the point of this module

from __future__ import annotations

import math
from dataclasses import dataclass

from inbetwin.llm.v1 import chat_pb2

from services.llm.guardrails.lexicon import phrase_hits, stem_match, words

POSITIVE = (
    "спасиб*",
    "благодар*",
    "отличн*",
    "прекрасн*",
    "супер",
    "класс*",
    "замечательн*",
    "хорош*",
    "рад",
    "рада",
    "радост*",
    "нравит*",
    "понравил*",
    "люблю",
    "круто",
    "здорово",
    "удобн*",
    "интересн*",
    "восхитительн*",
    "лучш*",
    "молодц*",
    "помог*",
    "быстро",
    "вежлив*",
    "thank*",
    "great",
    "excellent",
    "awesome",
    "amazing",
    "love*",
    "like",
    "liked",
    "good",
    "nice",
    "perfect",
    "happy",
    "glad",
    "wonderful",
    "fantastic",
    "helpful",
    "interested",
    "best",
    "cool",
    "pleased",
    "appreciate*",
    "brilliant",
)
NEGATIVE = (
    "ужасн*",
    "плох*",
    "отвратительн*",
    "кошмар*",
    "недоволь*",
    "разочаров*",
    "обман*",
    "развод*",
    "злюсь",
    "бесит",
    "надоел*",
    "жалоб*",
    "возмут*",
    "хамств*",
    "медленн*",
    "никогда",
    "верните",
    "вернуть",
    "возврат*",
    "сломал*",
    "сломан*",
    "не работает",
    "проблем*",
    "ошибк*",
    "отстой",
    "хуж*",
    "позор*",
    "безобрази*",
    "идиот*",
    "дурак*",
    "тупые",
    "тупой",
    "terrible",
    "awful",
    "bad",
    "worst",
    "hate*",
    "angry",
    "disappoint*",
    "scam*",
    "refund*",
    "broken",
    "useless",
    "horrible",
    "annoy*",
    "complain*",
    "problem*",
    "slow",
    "rude",
    "never",
    "stupid",
    "ridiculous",
    "unacceptable",
    "wrong",
    "fail*",
    "sucks",
)
NEGATIONS = ("не", "нет", "ни", "not", "no", "never", "don't", "doesn't", "isn't", "wasn't", "dont")
INTENSIFIERS = ("очень", "крайне", "совсем", "просто", "very", "really", "so", "extremely", "too")

INTENTS: dict[str, tuple[str, ...]] = {
    "pricing": (
        r"\bсколько стоит",
        r"\bцен[аыуе]",
        r"\bстоимост",
        r"\bпрайс",
        r"\bтариф",
        r"\bhow much\b",
        r"\bprice",
        r"\bcost",
        r"\bpricing\b",
        r"\bquote\b",
    ),
    "purchase": (
        r"\bкупить",
        r"\bкуплю",
        r"\bзаказ",
        r"\bоформ",
        r"\bоплат",
        r"\bприобрест",
        r"\bbuy\b",
        r"\border\b",
        r"\bpurchase",
        r"\bpay\b",
        r"\bcheckout\b",
        r"\bsubscribe",
    ),
    "meeting": (
        r"\bвстреч",
        r"\bсозвон",
        r"\bзапис",
        r"\bконсультац",
        r"\bприем",
        r"\bприём",
        r"\bmeeting\b",
        r"\bappointment",
        r"\bbook\b",
        r"\bschedule",
        r"\bcall me\b",
        r"\bdemo\b",
    ),
    "urgency": (
        r"\bсрочно",
        r"\bнемедленно",
        r"\bпрямо сейчас",
        r"\bсегодня",
        r"\bбыстрее",
        r"\burgent",
        r"\basap\b",
        r"\bright now\b",
        r"\btoday\b",
        r"\bimmediately\b",
    ),
    "complaint": (
        r"\bжалоб",
        r"\bверните",
        r"\bвозврат",
        r"\bне работает",
        r"\bобман",
        r"\bcomplain",
        r"\brefund",
        r"\bnot working\b",
        r"\bbroken\b",
        r"\bscam",
    ),
}


@dataclass(frozen=True, slots=True)
class Assessment:
    score: float
    intents: tuple[str, ...]

    @property
    def label(self) -> int:
        """The contract's Sentiment value."""
        if self.score > 0.2:
            return chat_pb2.SENTIMENT_POSITIVE
        if self.score < -0.2:
            return chat_pb2.SENTIMENT_NEGATIVE
        return chat_pb2.SENTIMENT_NEUTRAL


def assess(text: str) -> Assessment:
    tokens = words(text)
    total = 0.0
    flip_left = 0
    boost = 1.0
    for index, word in enumerate(tokens):
        if word in NEGATIONS:
            # "не работает" is a negative phrase in itself, not a negated positive.
            if word == "не" and index + 1 < len(tokens) and tokens[index + 1] == "работает":
                total -= 1.0
                flip_left = 0
                continue
            flip_left = 2
            continue
        if word in INTENSIFIERS:
            boost = 1.5
            continue
        value = 0.0
        if stem_match(word, POSITIVE):
            value = 1.0
        elif stem_match(word, NEGATIVE):
            value = -1.0
        if value and flip_left:
            value = -value * 0.8
        total += value * boost
        if value:
            boost = 1.0
        flip_left = max(0, flip_left - 1)
    exclamations = min(text.count("!"), 3)
    if total:
        total *= 1.0 + 0.15 * exclamations
    score = math.tanh(total / 1.5)
    found = tuple(name for name, phrases in INTENTS.items() if phrase_hits(text, phrases))
    return Assessment(score=round(score, 3), intents=found)

# ruff: noqa: RUF001 - the Russian lexicon is Cyrillic on purpose
"""Buying signals in a contact's own words, Russian and English.

A small, inspectable lexicon rather than a model: every hit names the words that carry it, so the
owner sees why a message counted. Russian patterns match word stems (`куп` covers купить, куплю,
купим...). A purchase or meeting phrase right after a negation (`не хочу покупать`, `don't want
to buy`) does not count; a comma in between breaks the negation (`не подскажете, где купить?`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    PRICING = "pricing"
    PURCHASE = "purchase"
    MEETING = "meeting"
    URGENCY = "urgency"
    NOT_INTERESTED = "not_interested"


BUYING_INTENTS = (Intent.PRICING, Intent.PURCHASE, Intent.MEETING, Intent.URGENCY)
NEGATABLE = frozenset({Intent.PURCHASE, Intent.MEETING})

_PATTERNS: dict[Intent, tuple[str, ...]] = {
    Intent.PRICING: (
        r"\bprices?\b",
        r"\bpricing\b",
        r"\bhow much\b",
        r"\bcosts?\b",
        r"\bquotes?\b",
        r"\btariffs?\b",
        r"\bdiscounts?\b",
        r"\bfees?\b",
        r"\bцен[аеуыо]?\b",
        r"\bценник\w*",
        r"\bстоимост\w*",
        r"\bсколько\s+сто\w*",
        r"\bпрайс\w*",
        r"\bтариф\w*",
        r"\bскидк\w*",
        r"\bрасценк\w*",
        r"\bпо\s?чем\b",
    ),
    Intent.PURCHASE: (
        r"\bbuy(ing)?\b",
        r"\bpurchas\w*",
        r"\b(place|make|put)\s+an?\s+order\b",
        r"\bto\s+order\b",
        r"\bsign\s+(me\s+|us\s+)?up\b",
        r"\bsubscribe\b",
        r"\bcheckout\b",
        r"\binvoice\b",
        r"\bready\s+to\s+(buy|start|go|proceed|order|pay|sign)\b",
        r"\b(i|we)('ll|\s+will)\s+take\b",
        r"\bкуп(ить|лю|им|ит|ите|ят|ила?|или)\b",
        r"\bпокуп(к|а)\w*",
        r"\bприобре\w*",
        r"\bзаказ\w*",
        r"\bоформ\w*",
        r"\bоплат\w*",
        r"\bсчет\b",
        r"\bберу\b",
        r"\bберем\b",
        r"\bвозьм(у|ем)\b",
    ),
    Intent.MEETING: (
        r"\bmeet(ing)?\b",
        r"\b(a|phone|video|quick)\s+call\b",
        r"\bcall\s+(me|us)\b",
        r"\bdemo\b",
        r"\bschedul\w*",
        r"\bbook\s+(a|an|me|us)\b",
        r"\bappointment\b",
        r"\bzoom\b",
        r"\bconsultation\b",
        r"\bвстреч\w*",
        r"\bсозвон\w*",
        r"\bпозвон\w*",
        r"\bзвон(ок|ка|ке|ите)\b",
        r"\bдемо\w*",
        r"\bзапис(ать|аться|ывай)\w*",
        r"\bзапиш(и|ите|ет|у)\b",
        r"\b(за)?бронир\w*",
        r"\bконсультац\w*",
        r"\bзум\b",
    ),
    Intent.URGENCY: (
        r"\burgent(ly)?\b",
        r"\basap\b",
        r"\bas\s+soon\s+as\s+possible\b",
        r"\btoday\b",
        r"\btomorrow\b",
        r"\bright\s+(away|now)\b",
        r"\bthis\s+week\b",
        r"\bimmediately\b",
        r"\bсрочн\w*",
        r"\bсегодня\b",
        r"\bзавтра\b",
        r"\bкак\s+можно\s+скорее\b",
        r"\bпобыстрее\b",
        r"\bнемедленно\b",
        r"\bпрямо\s+сейчас\b",
        r"\bна\s+этой\s+неделе\b",
    ),
    Intent.NOT_INTERESTED: (
        r"\bnot\s+interested\b",
        r"\bno,?\s+thanks?\b",
        r"\bno\s+thank\s+you\b",
        r"\bunsubscribe\b",
        r"\bstop\s+(messaging|writing|texting)\b",
        r"\bleave\s+me\s+alone\b",
        r"\bwrong\s+(number|person)\b",
        r"\bне\s+интерес\w*",
        r"\bне\s+нужно\b",
        r"\bне\s+надо\b",
        r"\bотпиш\w*",
        r"\bне\s+пишите\b",
        r"\bотстаньте\b",
        r"\bне\s+актуальн\w*",
        r"\bспам\w*",
    ),
}

_COMPILED = {
    intent: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
    for intent, patterns in _PATTERNS.items()
}
# A negation at most two words before the phrase, with no punctuation in between.
_NEGATED_BEFORE = re.compile(
    r"(?:\bне|\bнет|\bdon'?t|\bdo\s+not|\bwon'?t|\bnot|\bnever|\bno\s+need)(?:\s+[\w']+){0,2}\s+$",
    re.IGNORECASE,
)
EXCERPT_MAX = 200
_CONTEXT = 60


@dataclass(frozen=True, slots=True)
class IntentHit:
    intent: Intent
    excerpt: str


def normalise(text: str) -> str:
    return text.replace("ё", "е").replace("Ё", "Е")


def detect(text: str) -> list[IntentHit]:
    """Every intent found in `text`, the first hit of each, in Intent order."""
    plain = normalise(text)
    hits: list[IntentHit] = []
    for intent, patterns in _COMPILED.items():
        for pattern in patterns:
            match = next(
                (m for m in pattern.finditer(plain) if not _negated(intent, plain, m.start())),
                None,
            )
            if match is not None:
                hits.append(IntentHit(intent, excerpt_around(text, match.start(), match.end())))
                break
    return hits


def _negated(intent: Intent, text: str, start: int) -> bool:
    if intent not in NEGATABLE:
        return False
    return _NEGATED_BEFORE.search(text[max(0, start - 40) : start]) is not None


def excerpt_around(text: str, start: int, end: int) -> str:
    """The match with some words of context, at most EXCERPT_MAX characters, ellipses where cut."""
    left = max(0, start - _CONTEXT)
    right = min(len(text), end + _CONTEXT)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    return clip(
        ("…" if left > 0 else "") + text[left:right].strip() + ("…" if right < len(text) else "")
    )


def clip(text: str, limit: int = EXCERPT_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

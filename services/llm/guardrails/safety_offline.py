"""The offline safety check of an outgoing reply, Russian and English.

Categories, each a list of stems and phrases: harassment (insults aimed at the reader),
violence (threats), self-harm (encouragement or methods), sexual (explicit terms), hate,
profanity, and leaked secrets (API keys, private keys). A reply is flagged when any category
matches. It is deliberately conservative about context: "kill the process" is not a threat,
"kill you" is.
"""

# ruff: noqa: RUF001 - Russian words are the point of this module

from __future__ import annotations

import re

from services.llm.guardrails.lexicon import phrase_hits, stem_match, words

STEMS: dict[str, tuple[str, ...]] = {
    "harassment": (
        "идиот*",
        "дура",
        "дурак*",
        "дебил*",
        "кретин*",
        "тупиц*",
        "придур*",
        "урод*",
        "ничтожеств*",
        "лох",
        "лошар*",
        "чмо",
        "мраз*",
        "тварь",
        "твари",
        "скотин*",
        "idiot*",
        "moron*",
        "stupid",
        "dumbass",
        "loser*",
        "imbecile*",
        "retard*",
        "pathetic",
        "worthless",
    ),
    "profanity": (
        "бля*",
        "хуй*",
        "хуе*",
        "хуё*",
        "пизд*",
        "ебат*",
        "ебан*",
        "ебал*",
        "сука",
        "суки",
        "сучк*",
        "нахуй",
        "нахер",
        "охуе*",
        "заеб*",
        "уеб*",
        "пидор*",
        "пидар*",
        "гандон*",
        "залуп*",
        "fuck*",
        "shit*",
        "bitch*",
        "bastard*",
        "asshole*",
        "cunt*",
        "dick",
        "motherfuck*",
    ),
    "sexual": (
        "порн*",
        "секс*",
        "минет*",
        "оргазм*",
        "голая",
        "голые",
        "porn*",
        "sex",
        "sexy",
        "nude*",
        "nudes",
        "blowjob*",
        "orgasm*",
        "horny",
    ),
    "hate": ("нигер*", "жид", "жиды", "хач*", "чурк*", "nigger*", "faggot*", "kike*", "chink*"),
}

PHRASES: dict[str, tuple[str, ...]] = {
    "harassment": (
        r"\bshut up\b",
        r"\bзаткнись\b",
        r"\bотвали\b",
        r"\bgo away\b",
        r"\bnobody cares\b",
        r"\bты (?:полный |просто )?(?:ноль|никто)\b",
        r"\byou are (?:an? )?(?:fool|joke)\b",
        r"\bget lost\b",
        r"\bпошел вон\b",
        r"\bпошла вон\b",
    ),
    "violence": (
        r"\b(?:i will|i'll|we will|we'll|gonna) (?:kill|hurt|find|beat|destroy) you",
        r"\bkill you\b",
        r"\bубью\b",
        r"\bубьем\b",
        r"\bзарежу\b",
        r"\bприбью\b",
        r"\bнайду тебя\b",
        r"\bнайдем тебя\b",
        r"\bсожгу\b",
        r"\bвзорв(?:у|ем)\b",
        r"\bмы тебя (?:найдем|накажем)\b",
        r"\byou will regret\b",
        r"\bпожалеешь\b",
        r"\bhow to make a bomb\b",
        r"\bкак сделать бомбу\b",
    ),
    "self-harm": (
        r"\bkill yourself\b",
        r"\bkys\b",
        r"\bубей себя\b",
        r"\bубейся\b",
        r"\bповесься\b",
        r"\bвыпрыгни из окна\b",
        r"\bend your life\b",
        r"\byou should die\b",
        r"\bсдохни\b",
        r"\bпокончи с собой\b",
        r"\bcut yourself\b",
    ),
    "hate": (
        r"\b(?:all|these) (?:women|men|immigrants|muslims|jews|gays) (?:are|should)\b",
        r"\bвсе (?:бабы|женщины|мигранты|евреи|геи) (?:-|—)? ?(?:тупые|должны|мрази)\b",
    ),
}

_SECRETS = (
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    re.compile(r"\b\d{9,10}:AA[A-Za-z0-9_-]{30,}\b"),  # a Telegram bot token
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
)


def classify(text: str) -> list[str]:
    """The categories the text trips; empty when it looks fit to send."""
    found: list[str] = []
    tokens = words(text)
    for category, stems in STEMS.items():
        if any(stem_match(token, stems) for token in tokens):
            found.append(category)
    for category, phrases in PHRASES.items():
        if category not in found and phrase_hits(text, phrases):
            found.append(category)
    if any(pattern.search(text) for pattern in _SECRETS):
        found.append("secrets")
    return found

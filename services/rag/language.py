"""Language of a text for full-text search, and the normal form of a Q&A question.

Postgres stems with the configuration named here: `russian` (whose parser also stems Latin
words with the English stemmer) when Cyrillic letters dominate, `english` otherwise. Text is
lower-cased here, in Python, because a cluster with the C locale does not lower-case Cyrillic.
"""

from __future__ import annotations

import re
import unicodedata

RUSSIAN = "russian"
ENGLISH = "english"
MAX_QUERY_TERMS = 64

_WORD = re.compile(r"[^\W_]+")


def detect(text: str) -> str:
    """`russian` or `english`: whichever script has more letters (ties: english)."""
    cyrillic = latin = 0
    for char in text:
        if "\u0400" <= char <= "\u04ff":  # the Cyrillic block
            cyrillic += 1
        elif "a" <= char.lower() <= "z":
            latin += 1
    return RUSSIAN if cyrillic > latin else ENGLISH


def search_text(text: str) -> str:
    """What Postgres turns into a tsvector: NFC, lower case, yo (U+0451) folded to ie."""
    return unicodedata.normalize("NFC", text).lower().replace("\u0451", "\u0435")


def query_terms(query: str) -> str:
    """An OR-query of the query's words for `to_tsquery(config, ...)`; empty when none.

    Only runs of letters and digits, so nothing the user typed is read as a tsquery operator.
    OR rather than AND: a question shares only some of its words with the passage answering it.
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(search_text(query)):
        seen.setdefault(word, None)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return " | ".join(seen)


def normalise_question(question: str) -> str:
    """Equal for questions that differ only in case, punctuation and whitespace."""
    return " ".join(_WORD.findall(search_text(question)))

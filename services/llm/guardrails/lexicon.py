"""Word matching shared by the offline classifiers: lower-cased words (Cyrillic and Latin, `ё`
folded to `е`) matched against stems, so Russian inflections (`ужасный`, `ужасно`) share one
entry."""

# ruff: noqa: RUF001, RUF002 - Russian words are the point of this module

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-zа-я0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


def stem_match(word: str, stems: Iterable[str]) -> bool:
    """A stem ending in `*` matches any word starting with it; other stems match exactly."""
    for stem in stems:
        if stem.endswith("*"):
            if word.startswith(stem[:-1]):
                return True
        elif word == stem:
            return True
    return False


def phrase_hits(text: str, phrases: Iterable[str]) -> list[str]:
    """The phrases (regular expressions over the lower-cased text) found in `text`."""
    lowered = " ".join(words(text))
    return [p for p in phrases if re.search(p, lowered)]

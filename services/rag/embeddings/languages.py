"""Which query languages an embedding model covers, in the names `language.detect` returns.

A model trained on one language maps text in another to near-random vectors: fusing those
with full-text ranks makes hybrid search worse than full-text alone, and a near-exact Q&A
match among them means nothing. Search asks `covers` before trusting the vector leg.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.rag.language import ENGLISH

EVERY = "*"

# Models whose training languages are known; any other model is taken to cover every
# language unless the settings say otherwise (remote providers' models mostly do).
_KNOWN: dict[str, frozenset[str] | None] = {
    "all-MiniLM-L6-v2": frozenset({ENGLISH}),
    "all-MiniLM-L12-v2": frozenset({ENGLISH}),
    "all-mpnet-base-v2": frozenset({ENGLISH}),
    "paraphrase-multilingual-MiniLM-L12-v2": None,
    "paraphrase-multilingual-mpnet-base-v2": None,
    "multilingual-e5-small": None,
    "multilingual-e5-base": None,
    "LaBSE": None,
    "text-embedding-3-small": None,
    "text-embedding-3-large": None,
}


@dataclass(frozen=True, slots=True)
class LanguageCoverage:
    """The languages a model covers; `None`: every language."""

    languages: frozenset[str] | None = None

    def covers(self, language: str) -> bool:
        return self.languages is None or language in self.languages


def coverage_of(model: str, configured: str = "") -> LanguageCoverage:
    """`configured` ("english,russian", "*" for every language) wins; empty: what is known of
    `model` by its name (the last path segment, so `sentence-transformers/...` matches)."""
    if configured.strip():
        names = frozenset(part.strip().lower() for part in configured.split(",") if part.strip())
        return LanguageCoverage(None if EVERY in names else names)
    return LanguageCoverage(_KNOWN.get(model.rsplit("/", 1)[-1]))

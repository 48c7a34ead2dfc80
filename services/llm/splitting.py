"""Fitting a reply to a channel's message length: split at paragraph, then sentence, then word
boundaries into at most `max_parts` messages; what does not fit is trimmed at a sentence
boundary and marked with `…`. Lengths are counted in UTF-16 code units, as Telegram does."""

from __future__ import annotations

import re

from inbetwin.social.v1 import integration_pb2

PLATFORM_LIMITS: dict[int, int] = {
    integration_pb2.PLATFORM_TELEGRAM: 4096,
    integration_pb2.PLATFORM_VK: 4096,
    integration_pb2.PLATFORM_X: 10000,
    integration_pb2.PLATFORM_MAX: 4000,
}
PART_SEPARATOR = "\n\n"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
ELLIPSIS = "…"


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def limit_for(platform: int) -> int | None:
    return PLATFORM_LIMITS.get(int(platform))


def split_reply(text: str, limit: int | None, max_parts: int) -> list[str]:
    """The reply as the messages to send (one when it fits)."""
    text = text.strip()
    if not text:
        return []
    if limit is None or units(text) <= limit:
        return [text]
    pieces = _pieces(text, limit)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{piece.separator}{piece.text}" if current else piece.text
        if units(candidate) <= limit:
            current = candidate
            continue
        parts.append(current)
        current = piece.text
    if current:
        parts.append(current)
    if len(parts) <= max_parts:
        return parts
    kept = parts[:max_parts]
    kept[-1] = _trim(kept[-1], limit - units(ELLIPSIS)) + ELLIPSIS
    return kept


class _Piece:
    __slots__ = ("separator", "text")

    def __init__(self, text: str, separator: str) -> None:
        self.text = text
        self.separator = separator


def _pieces(text: str, limit: int) -> list[_Piece]:
    """Paragraphs, broken into sentences and then words until each piece fits."""
    found: list[_Piece] = []
    for p_index, paragraph in enumerate(p for p in re.split(r"\n\s*\n", text) if p.strip()):
        first_separator = PART_SEPARATOR if p_index else ""
        if units(paragraph) <= limit:
            found.append(_Piece(paragraph.strip(), first_separator))
            continue
        for s_index, sentence in enumerate(_SENTENCE_END.split(paragraph.strip())):
            separator = first_separator if s_index == 0 else " "
            if units(sentence) <= limit:
                found.append(_Piece(sentence, separator))
                continue
            for w_index, word_chunk in enumerate(_word_chunks(sentence, limit)):
                found.append(_Piece(word_chunk, separator if w_index == 0 else " "))
    return found


def _word_chunks(sentence: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for word in sentence.split():
        while units(word) > limit:  # a single giant "word" (a URL): cut it hard
            head = _prefix_within(word, limit)
            word = word[len(head) :]
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
        candidate = f"{current} {word}" if current else word
        if units(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` UTF-16 units."""
    cut = text[:limit]
    while units(cut) > limit:
        cut = cut[: max(1, len(cut) - (units(cut) - limit + 1) // 2)]
    return cut


def _trim(text: str, limit: int) -> str:
    """`text` cut to `limit` at the last sentence end (or word) that fits."""
    if units(text) <= limit:
        return text
    cut = _prefix_within(text, limit)
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    if sentence_end > limit // 2:
        return cut[: sentence_end + 1].rstrip()
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip()

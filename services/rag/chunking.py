"""Overlapping chunks on sentence and heading boundaries, with offsets into the text.

The text is cut into sentences (and lines); sentences are packed into chunks of at most
`size` characters; a heading or a new page starts a new chunk (unless the chunk so far is
tiny, so a citation's page is where its text is), and a chunk
cut inside a section starts its successor with the last sentences of up to `overlap`
characters, so a passage is never split without context. A sentence longer than `size` is
cut at spaces.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

from services.rag.extraction import Extracted

_SENTENCE_END = re.compile("[.!?\u2026]+[\"'\u00bb\u201d\u2019)\\]]*(?=\\s)|\n")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: `text[start:end]` of the extracted text."""

    index: int
    start: int
    end: int
    text: str
    heading: str
    page_number: int

    def embedding_input(self) -> str:
        """What is embedded: the heading gives a chunk cut from its section its context."""
        if self.heading and not self.text.startswith(self.heading):
            return f"{self.heading}\n{self.text}"
        return self.text


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    opens_section: bool


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((cursor, match.end()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed = []
    for left, right in spans:
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            trimmed.append((left, right))
    return trimmed


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = cut if cut > start else start + size
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _units(extracted: Extracted, size: int) -> list[_Unit]:
    text = extracted.text
    bounds = sorted({0, *(h.start for h in extracted.headings), *extracted.page_starts, len(text)})
    units: list[_Unit] = []
    for section_start, section_end in itertools.pairwise(bounds):
        first = True
        for left, right in _sentences(text, section_start, section_end):
            for piece_start, piece_end in _split_long(text, left, right, size):
                units.append(_Unit(piece_start, piece_end, first))
                first = False
    return units


def split(extracted: Extracted, *, size: int, overlap: int) -> list[Chunk]:
    text = extracted.text
    heading_starts = [h.start for h in extracted.headings]
    spans: list[tuple[int, int]] = []
    current: list[_Unit] = []
    for unit in _units(extracted, size):
        if current:
            length = unit.end - current[0].start
            if unit.opens_section and current[-1].end - current[0].start >= size // 3:
                spans.append((current[0].start, current[-1].end))
                current = []
            elif length > size:
                spans.append((current[0].start, current[-1].end))
                end = current[-1].end
                kept = [u for u in current[1:] if end - u.start <= overlap]
                current = kept if kept and unit.end - kept[0].start <= size else []
        current.append(unit)
    if current:
        spans.append((current[0].start, current[-1].end))
    chunks = []
    for index, (start, end) in enumerate(spans):
        at = bisect.bisect_right(heading_starts, start) - 1
        page = bisect.bisect_right(extracted.page_starts, start) if extracted.page_starts else 0
        chunks.append(
            Chunk(
                index=index,
                start=start,
                end=end,
                text=text[start:end],
                heading=extracted.headings[at].title if at >= 0 else "",
                page_number=page,
            )
        )
    return chunks

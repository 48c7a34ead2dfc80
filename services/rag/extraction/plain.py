"""Plain text and Markdown: the text as written; Markdown's ATX and setext headings."""

from __future__ import annotations

import re

from services.rag.extraction.model import Extracted, Heading, no_text, too_large

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SETEXT = re.compile(r"^(\S[^\n]*)\n(=+|-+)[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)


def _normalise(text: str, max_chars: int) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_chars:
        raise too_large(f"the text exceeds {max_chars} characters")
    if not text.strip():
        raise no_text("the file holds only whitespace")
    return text


def extract_plain(text: str, max_chars: int) -> Extracted:
    return Extracted(_normalise(text, max_chars))


def extract_markdown(text: str, max_chars: int) -> Extracted:
    text = _normalise(text, max_chars)
    fenced = [(m.start(), m.end()) for m in _FENCE.finditer(text)]

    def in_fence(position: int) -> bool:
        return any(start <= position < end for start, end in fenced)

    headings = [
        Heading(m.start(), len(m.group(1)), m.group(2).strip())
        for m in _ATX.finditer(text)
        if not in_fence(m.start())
    ]
    headings += [
        Heading(m.start(), 1 if m.group(2).startswith("=") else 2, m.group(1).strip())
        for m in _SETEXT.finditer(text)
        if not in_fence(m.start()) and not m.group(1).lstrip().startswith(("#", "-", "*"))
    ]
    headings.sort(key=lambda heading: heading.start)
    return Extracted(text, headings)

"""Cutting outgoing text to a platform's per-message limit."""

from __future__ import annotations


def utf16_units(text: str) -> int:
    """Length as Telegram and most platforms count it: UTF-16 code units."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into parts of at most `limit` UTF-16 units, preferring line and word breaks."""
    parts: list[str] = []
    remaining = text
    while utf16_units(remaining) > limit:
        cut = _longest_prefix(remaining, limit)
        window = remaining[:cut]
        brk = max(window.rfind("\n"), window.rfind(" "))
        if brk >= cut // 2:
            cut = brk + 1
        parts.append(remaining[:cut])
        remaining = remaining[cut:]
    if remaining:
        parts.append(remaining)
    return parts


def _longest_prefix(text: str, limit: int) -> int:
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return max(index, 1)
    return len(text)

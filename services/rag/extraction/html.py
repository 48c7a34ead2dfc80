"""HTML: visible text by blocks, `h1`..`h6` as headings; scripts and styles dropped."""

from __future__ import annotations

from html.parser import HTMLParser

from services.rag.extraction.model import Extracted, TextBuilder

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "tr", "td", "th", "section", "article", "header", "footer",
        "blockquote", "pre", "table", "ul", "ol", "dl", "dt", "dd", "hr", "main", "aside",
        "nav", "figure", "figcaption", "form", "address", "caption",
    }
)  # fmt: skip
_HEADINGS = {f"h{level}": level for level in range(1, 7)}


class _Parser(HTMLParser):
    def __init__(self, builder: TextBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self._builder = builder
        self._skip_depth = 0
        self._buffer: list[str] = []
        self._heading_level = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        self._buffer.clear()
        if self._heading_level:
            self._builder.heading(text, self._heading_level)
        else:
            self._builder.block(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip_depth = 0  # a `<head>` left open must not hide the whole page
        elif tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = _HEADINGS[tag]
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = 0
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._buffer.append(data)

    def finish(self) -> None:
        self.close()
        self._flush()


def extract_html(text: str, max_chars: int) -> Extracted:
    builder = TextBuilder(max_chars)
    parser = _Parser(builder)
    parser.feed(text)
    parser.finish()
    return builder.build()

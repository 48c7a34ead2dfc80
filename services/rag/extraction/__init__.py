"""Text extraction: one module per format, dispatched on the sniffed content type."""

from __future__ import annotations

from services.rag import sniffing
from services.rag.extraction.docx import extract_docx
from services.rag.extraction.html import extract_html
from services.rag.extraction.model import (
    Extracted,
    ExtractionError,
    Heading,
    Limits,
    corrupt,
    empty,
)
from services.rag.extraction.pdf import extract_pdf
from services.rag.extraction.plain import extract_markdown, extract_plain

__all__ = ["Extracted", "ExtractionError", "Heading", "Limits", "extract"]


def extract(data: bytes, content_type: str, limits: Limits) -> Extracted:
    """The document's text; ExtractionError says why there is none. CPU-bound: run it in a
    worker thread."""
    if not data:
        raise empty()
    if content_type == sniffing.PDF:
        return extract_pdf(data, limits.max_text_chars)
    if content_type == sniffing.DOCX:
        return extract_docx(data, limits)
    text = sniffing.decode_text(data)
    if text is None:
        raise corrupt("the file is not valid text")
    if content_type == sniffing.HTML:
        return extract_html(text, limits.max_text_chars)
    if content_type == sniffing.MARKDOWN:
        return extract_markdown(text, limits.max_text_chars)
    return extract_plain(text, limits.max_text_chars)

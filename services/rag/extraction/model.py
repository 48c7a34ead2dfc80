"""What extraction produces, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field

from inbetwin.rag.v1 import document_pb2


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading that starts at `start` (code points into the extracted text)."""

    start: int
    level: int
    title: str


@dataclass(frozen=True, slots=True)
class Extracted:
    """A document's text, its headings, and where each page starts (PDF only)."""

    text: str
    headings: list[Heading] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Limits:
    max_text_chars: int
    max_docx_unpacked_bytes: int
    max_docx_compression_ratio: float


class ExtractionError(Exception):
    """The document cannot be indexed; `reason` is a DocumentFailureReason value."""

    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message[:500]


def empty() -> ExtractionError:
    return ExtractionError(document_pb2.DOCUMENT_FAILURE_REASON_EMPTY, "the file is empty")


def corrupt(message: str) -> ExtractionError:
    return ExtractionError(document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT, message)


def encrypted(message: str) -> ExtractionError:
    return ExtractionError(document_pb2.DOCUMENT_FAILURE_REASON_ENCRYPTED, message)


def too_large(message: str) -> ExtractionError:
    return ExtractionError(document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE, message)


def no_text(message: str = "the file holds no extractable text") -> ExtractionError:
    return ExtractionError(document_pb2.DOCUMENT_FAILURE_REASON_NO_TEXT, message)


class TextBuilder:
    """Appends blocks of text with headings and page breaks, within the text limit."""

    def __init__(self, max_chars: int) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._max = max_chars
        self.headings: list[Heading] = []
        self.page_starts: list[int] = []
        self._separated = True

    def _separate(self) -> None:
        if self._length and not self._separated:
            self._append("\n\n")
        self._separated = False

    def _append(self, text: str) -> None:
        self._length += len(text)
        if self._length > self._max:
            raise too_large(f"the extracted text exceeds {self._max} characters")
        self._parts.append(text)

    def block(self, text: str) -> None:
        """A paragraph: separated from the previous one by a blank line."""
        text = text.strip()
        if not text:
            return
        self._separate()
        self._append(text)

    def heading(self, title: str, level: int) -> None:
        title = " ".join(title.split())
        if not title:
            return
        self._separate()
        self.headings.append(Heading(self._length, level, title))
        self._append(title)

    def page(self) -> None:
        """The next block starts a new page."""
        self._separate()
        self._separated = True
        self.page_starts.append(self._length)

    def build(self) -> Extracted:
        text = "".join(self._parts)
        if not text.strip():
            raise no_text()
        return Extracted(text, self.headings, self.page_starts)

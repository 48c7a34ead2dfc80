"""The pure parts: sniffing, extraction, chunking, language, fusion, page tokens."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from inbetwin.rag.v1 import document_pb2

from services.kit.errors import ServiceError
from services.rag import chunking, language, pagination, sniffing
from services.rag.extraction import Extracted, ExtractionError, Heading, Limits, extract
from services.rag.fusion import reciprocal_rank_fusion
from tests.rag import samples

LIMITS = Limits(
    max_text_chars=1_000_000, max_docx_unpacked_bytes=50 * 2**20, max_docx_compression_ratio=200
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", sniffing.TEXT),
        (b"Just words.\nMore words.", sniffing.TEXT),
        ("Привет, мир".encode("cp1251"), sniffing.TEXT),
        (b"# Title\n\nBody", sniffing.MARKDOWN),
        (b"See [the docs](https://example.com).", sniffing.MARKDOWN),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", sniffing.HTML),
        (b"  <div><p>fragment</p></div>", sniffing.HTML),
        (samples.pdf([["x"]]), sniffing.PDF),
        (samples.docx([("", "x")]), sniffing.DOCX),
        (samples.encrypted_docx(), sniffing.DOCX),
        (samples.PNG, "image/png"),
        (b"PK\x03\x04" + b"\x00" * 40 + b"other.txt", "application/zip"),
        (b"\x00\x01\x02binary", sniffing.OCTET_STREAM),
    ],
)
def test_sniffing_reads_the_bytes_not_the_name(data: bytes, expected: str) -> None:
    assert sniffing.sniff(data) == expected


def test_markdown_headings_and_offsets() -> None:
    text = "# Prices\n\nBasic costs 10.\n\n## Delivery\n\nTwo days.\n\n```\n# not a heading\n```\n"
    extracted = extract(text.encode(), sniffing.MARKDOWN, LIMITS)
    assert [(h.title, h.level) for h in extracted.headings] == [("Prices", 1), ("Delivery", 2)]
    assert extracted.text[extracted.headings[1].start :].startswith("## Delivery")


def test_html_drops_scripts_and_keeps_headings() -> None:
    html = b"<html><head><style>p{}</style></head><body><h2>Hours</h2><p>Open 9&ndash;18.</p><script>evil()</script></body></html>"
    extracted = extract(html, sniffing.HTML, LIMITS)
    assert extracted.text == "Hours\n\nOpen 9\u201318."
    assert extracted.headings == [Heading(0, 2, "Hours")]


def test_pdf_pages_and_docx_headings() -> None:
    pdf = extract(samples.pdf([["First page."], ["Second page."]]), sniffing.PDF, LIMITS)
    assert pdf.text.index("Second page.") == pdf.page_starts[1]
    docx = extract(
        samples.docx([("Heading1", "Returns"), ("", "Within 14 days.")]), sniffing.DOCX, LIMITS
    )
    assert docx.text == "Returns\n\nWithin 14 days."
    assert docx.headings == [Heading(0, 1, "Returns")]


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"", sniffing.TEXT, document_pb2.DOCUMENT_FAILURE_REASON_EMPTY),
        (b"   \n\t ", sniffing.TEXT, document_pb2.DOCUMENT_FAILURE_REASON_NO_TEXT),
        (samples.corrupt_pdf(), sniffing.PDF, document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT),
        (samples.encrypted_pdf(), sniffing.PDF, document_pb2.DOCUMENT_FAILURE_REASON_ENCRYPTED),
        (samples.image_only_pdf(), sniffing.PDF, document_pb2.DOCUMENT_FAILURE_REASON_NO_TEXT),
        (samples.zip_bomb_docx(), sniffing.DOCX, document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE),
        (samples.not_a_zip_docx(), sniffing.DOCX, document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT),
        (samples.encrypted_docx(), sniffing.DOCX, document_pb2.DOCUMENT_FAILURE_REASON_ENCRYPTED),
        (b"word " * 300_000, sniffing.TEXT, document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE),
    ],
)
def test_bad_files_fail_with_a_reason(data: bytes, content_type: str, reason: int) -> None:
    with pytest.raises(ExtractionError) as failure:
        extract(data, content_type, LIMITS)
    assert failure.value.reason == reason
    assert failure.value.message


def test_a_bomb_that_lies_about_its_size_is_stopped_while_inflating() -> None:
    limits = Limits(
        max_text_chars=10**9, max_docx_unpacked_bytes=2 * 2**20, max_docx_compression_ratio=10**6
    )
    with pytest.raises(ExtractionError) as failure:
        extract(samples.zip_bomb_docx(8 * 2**20), sniffing.DOCX, limits)
    assert failure.value.reason == document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE


def test_chunks_cover_the_text_with_overlap_and_respect_headings() -> None:
    sentences = " ".join(f"Sentence {i} talks about topic {i}." for i in range(80))
    text = f"Intro line.\n\n{sentences}\n\nRefunds\n\nMoney back in 14 days."
    refunds = text.index("Refunds")
    extracted = Extracted(text, [Heading(0, 1, "Intro line."), Heading(refunds, 1, "Refunds")])
    chunks = chunking.split(extracted, size=300, overlap=80)
    assert all(c.text == text[c.start : c.end] for c in chunks)
    assert all(len(c.text) <= 300 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    body = [c for c in chunks if c.heading == "Intro line."]
    assert all(later.start < earlier.end for earlier, later in itertools.pairwise(body))
    assert all(c.text.rstrip().endswith((".", "line.")) for c in body)
    last = chunks[-1]
    assert last.heading == "Refunds"
    assert last.start == refunds
    covered = sorted((c.start, c.end) for c in chunks)
    position = 0
    for start, end in covered:
        assert text[position:start].strip() == ""
        position = max(position, end)


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces() -> None:
    text = "word " * 200
    chunks = chunking.split(Extracted(text.strip()), size=120, overlap=20)
    assert len(chunks) > 5
    assert all(0 < len(c.text) <= 120 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)


def test_page_numbers_come_from_page_starts() -> None:
    text = "One.\n\nTwo.\n\nThree."
    chunks = chunking.split(Extracted(text, [], [0, 6, 11]), size=6, overlap=0)
    assert [c.page_number for c in chunks] == [1, 2, 3]


def test_language_and_question_normal_form() -> None:
    assert language.detect("Сколько стоит доставка в Москву?") == language.RUSSIAN
    assert language.detect("How much is delivery to Moscow?") == language.ENGLISH
    assert language.normalise_question("  What's the PRICE?!  ") == language.normalise_question(
        "what s the price"
    )
    assert language.query_terms("a & b | !c <-> d:*") == "a | b | c | d"
    assert language.search_text("ЁЛКА") == "елка"


def test_reciprocal_rank_fusion_scales_the_best_to_one() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["a", "c"]])
    assert fused[0][0] == "a"
    assert fused[0][1] == pytest.approx(1.0)
    assert [item for item, _ in fused] == ["a", "c", "b"]
    assert all(0 < score <= 1 for _, score in fused)


def test_page_tokens_are_bound_to_their_query() -> None:
    cursor = pagination.Cursor(
        datetime(2026, 1, 2, tzinfo=UTC), "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    )
    token = pagination.encode(cursor, "q1")
    assert pagination.decode(token, "q1") == cursor
    for bad_token, query in ((token, "q2"), ("not-a-token", "q1"), ("e30", "q1")):
        with pytest.raises(ServiceError) as error:
            pagination.decode(bad_token, query)
        assert error.value.reason == "PAGE_TOKEN_INVALID"

"""The type of an upload, sniffed from its bytes; the client's Content-Type and the file
name's extension are never trusted."""

from __future__ import annotations

import codecs
import re

TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUPPORTED = frozenset({TEXT, MARKDOWN, HTML, PDF, DOCX})

OCTET_STREAM = "application/octet-stream"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted Office file is an OLE container holding an `EncryptedPackage` stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"\x1f\x8b", "application/gzip"),
    (b"%!PS", "application/postscript"),
    (b"{\\rtf", "application/rtf"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HTML_START = re.compile(r"^(<!doctype\s+html|<html[\s>])")
_HTML_TAG = re.compile(r"<(html|head|body|p|div|h[1-6]|title|table|ul|ol|article|section)[\s>/]")
_MARKDOWN = re.compile(
    r"^(#{1,6}[ \t]+\S|```|~~~|[ \t]*[-*+][ \t]+\S.*\n[ \t]*[-*+][ \t]+\S|\S.*\n(=+|-+)[ \t]*$)"
    r"|\[[^\]\n]+\]\([^)\s]+\)",
    re.MULTILINE,
)


def decode_text(data: bytes) -> str | None:
    """The text of `data` (UTF-8, UTF-16 with a BOM, or Windows-1251), or None if binary."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                return None
            return None if _CONTROL.search(text) else text
    for encoding in ("utf-8", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if _CONTROL.search(text) else text
    return None


def sniff(data: bytes) -> str:
    """A MIME type: one of SUPPORTED, or what the bytes look like instead."""
    if not data:
        return TEXT
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(_ZIP):
        return DOCX if b"word/document.xml" in data else "application/zip"
    if data.startswith(_OLE):
        return DOCX if _ENCRYPTED_PACKAGE in data else "application/x-ole-storage"
    for magic, mime in _BINARY_MAGIC:
        if data.startswith(magic):
            return mime
    text = decode_text(data[: 64 * 1024]) if len(data) > 64 * 1024 else decode_text(data)
    if text is None and len(data) > 64 * 1024:
        # The cut may split a UTF-8 sequence: retry on the whole file before giving up.
        text = decode_text(data)
    if text is None:
        return OCTET_STREAM
    head = text[:4096].lstrip().lower()
    if _HTML_START.match(head) or (head.startswith("<") and _HTML_TAG.search(head)):
        return HTML
    if _MARKDOWN.search(text[:20000]):
        return MARKDOWN
    return TEXT

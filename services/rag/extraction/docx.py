"""docx: paragraphs of `word/document.xml`, `Heading N`/`Title` styles as headings.

The zip is read defensively (a docx is a zip, so it can be a zip bomb): the declared sizes,
the compression ratio and the bytes actually inflated are all capped, XML with a DTD is
refused, and an encrypted Office file (an OLE container) fails as encrypted.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from services.rag.extraction.model import (
    Extracted,
    Limits,
    TextBuilder,
    corrupt,
    encrypted,
    too_large,
)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(heading|заголовок)\s*(\d)$", re.IGNORECASE)
_READ_SIZE = 64 * 1024
DOCUMENT = "word/document.xml"


def _open(data: bytes, limits: Limits) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    if data.startswith(_OLE):
        raise encrypted("docx is encrypted with a password")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise corrupt(f"docx is not a valid zip: {error}") from error
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_docx_unpacked_bytes:
        raise too_large(
            f"docx unpacks to {unpacked} bytes, more than {limits.max_docx_unpacked_bytes}"
        )
    try:
        info = archive.getinfo(DOCUMENT)
    except KeyError as error:
        raise corrupt("docx has no word/document.xml") from error
    if info.flag_bits & 0x1:
        raise encrypted("docx content is encrypted")
    if info.compress_size and info.file_size / info.compress_size > (
        limits.max_docx_compression_ratio
    ):
        raise too_large("docx is compressed suspiciously well (a zip bomb?)")
    return archive, info


def _style(paragraph_props: dict[str, str]) -> int:
    style = paragraph_props.get("style", "")
    if style.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style)
    if match:
        return min(6, max(1, int(match.group(2))))
    outline = paragraph_props.get("outline")
    if outline is not None and outline.isdigit():
        return min(6, int(outline) + 1)
    return 0


def extract_docx(data: bytes, limits: Limits) -> Extracted:
    archive, info = _open(data, limits)
    builder = TextBuilder(limits.max_text_chars)
    parser: Any = XMLPullParser(events=("start", "end"))
    runs: list[str] = []
    props: dict[str, str] = {}
    inflated = 0
    cap = min(limits.max_docx_unpacked_bytes, info.file_size + 1)
    try:
        with archive.open(info) as stream:
            first = True
            while piece := stream.read(_READ_SIZE):
                inflated += len(piece)
                if inflated > cap:
                    raise too_large("docx inflates beyond its declared size (a zip bomb?)")
                if first and (b"<!DOCTYPE" in piece or b"<!ENTITY" in piece):
                    raise corrupt("docx XML declares a DTD, which Word never writes")
                first = False
                parser.feed(piece)
                element: Element
                for event, element in parser.read_events():
                    tag = element.tag
                    if event == "start" and tag == f"{_W}p":
                        runs, props = [], {}
                    elif event != "end":
                        continue
                    elif tag == f"{_W}t":
                        runs.append(element.text or "")
                    elif tag == f"{_W}tab":
                        runs.append("\t")
                    elif tag in (f"{_W}br", f"{_W}cr"):
                        runs.append("\n")
                    elif tag == f"{_W}pStyle":
                        props["style"] = element.get(f"{_W}val", "")
                    elif tag == f"{_W}outlineLvl":
                        props["outline"] = element.get(f"{_W}val", "")
                    elif tag == f"{_W}p":
                        level = _style(props)
                        text = "".join(runs)
                        if level:
                            builder.heading(text, level)
                        else:
                            builder.block(text)
                        element.clear()
            parser.close()
    except (zipfile.BadZipFile, EOFError, OSError, ParseError, ValueError) as error:
        raise corrupt(f"docx is damaged: {error}") from error
    return builder.build()

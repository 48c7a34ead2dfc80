"""PDF through pypdf: text page by page; encrypted and damaged files fail with a reason."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

from services.rag.extraction.model import (
    Extracted,
    ExtractionError,
    TextBuilder,
    corrupt,
    encrypted,
    no_text,
)

logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(data: bytes, max_chars: int) -> Extracted:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted with an empty user password (only editing is locked):
            # those open; a real password does not.
            try:
                opened = reader.decrypt("")
            except (FileNotDecryptedError, DependencyError, NotImplementedError) as error:
                raise encrypted(f"PDF is encrypted: {error}") from error
            if not opened:
                raise encrypted("PDF is encrypted with a password")
        builder = TextBuilder(max_chars)
        for page in reader.pages:
            builder.page()
            builder.block(page.extract_text() or "")
        return builder.build()
    except ExtractionError as error:
        if error.reason == no_text().reason:
            raise no_text(
                "the PDF holds no extractable text (scanned images are not OCRed)"
            ) from None
        raise
    except FileNotDecryptedError as error:
        raise encrypted(f"PDF is encrypted: {error}") from error
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise corrupt(f"PDF is damaged: {error}") from error
    except RecursionError as error:
        raise corrupt("PDF is damaged: its structure nests too deeply") from error

"""Opaque keyset page tokens: the last row's sort key plus a fingerprint of the query, so a
token from a different query (or a forged one) is refused with PAGE_TOKEN_INVALID."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.rag.errors import page_token_invalid

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after which the next page starts, in (time DESC, id DESC) order."""

    time: datetime
    id: str


def page_size(requested: int) -> int:
    return requested or DEFAULT_PAGE_SIZE


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(cursor: Cursor, query: str) -> str:
    raw = json.dumps({"t": cursor.time.isoformat(), "i": cursor.id, "q": query}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, query: str) -> Cursor | None:
    """None for the first page; PAGE_TOKEN_INVALID for anything not made by `encode`."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        if body["q"] != query:
            raise page_token_invalid()
        time = datetime.fromisoformat(body["t"])
        if time.tzinfo is None:
            raise page_token_invalid()
        return Cursor(time, str(uuid.UUID(body["i"])))
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise page_token_invalid() from error

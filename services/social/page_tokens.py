"""Opaque keyset page tokens: the last row's sort key, tied to the list and filters it came from.

A sort key is a value (a time or a text) plus the row id that breaks ties.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime

from services.social import errors

SortValue = datetime | str


def encode(*, scope: str, created_at: datetime, row_id: str) -> str:
    return encode_key(scope=scope, value=created_at, row_id=row_id)


def decode(token: str, *, scope: str) -> tuple[datetime, str] | None:
    """None for the first page; PAGE_TOKEN_INVALID for a token that is not this list's."""
    key = decode_key(token, scope=scope)
    if key is None:
        return None
    value, row_id = key
    if not isinstance(value, datetime):
        raise errors.page_token_invalid()
    return value, row_id


def encode_key(*, scope: str, value: SortValue, row_id: str) -> str:
    kind, text = ("t", value.isoformat()) if isinstance(value, datetime) else ("v", value)
    payload = {"s": _digest(scope), kind: text, "i": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_key(token: str, *, scope: str) -> tuple[SortValue, str] | None:
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["s"] != _digest(scope):
            raise ValueError("token of another list")
        value: SortValue
        if "t" in payload:
            value = datetime.fromisoformat(payload["t"])
            if value.tzinfo is None:
                raise ValueError("naive time")
        else:
            value = payload["v"]
            if not isinstance(value, str):
                raise ValueError("sort value is not text")
        return value, str(uuid.UUID(payload["i"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise errors.page_token_invalid() from None


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]

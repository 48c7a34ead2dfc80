"""Opaque keyset page tokens: the last row's sort key, bound to the list and filters it came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime

from services.agent import errors

DEFAULT_PAGE_SIZE = 50


def page_size(requested: int) -> int:
    return requested or DEFAULT_PAGE_SIZE


def encode(*, scope: str, key: str | datetime, row_id: str) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    payload = {"s": _digest(scope), "k": value, "i": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode(token: str, *, scope: str) -> tuple[str, str] | None:
    """None for the first page; INVALID_PAGE_TOKEN for a token that is not this list's."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["s"] != _digest(scope):
            raise ValueError("token of another list")
        return str(payload["k"]), str(payload["i"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.page_token_invalid() from None


def decode_time(token: str, *, scope: str) -> tuple[datetime, str] | None:
    decoded = decode(token, scope=scope)
    if decoded is None:
        return None
    try:
        when = datetime.fromisoformat(decoded[0])
    except ValueError:
        raise errors.page_token_invalid() from None
    if when.tzinfo is None:
        raise errors.page_token_invalid()
    return when, decoded[1]


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]

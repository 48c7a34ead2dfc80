"""Opaque keyset page tokens: the last row's sort key, tied to the list and filters it came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime

from services.social import errors


def encode(*, scope: str, created_at: datetime, row_id: str) -> str:
    payload = {"s": _digest(scope), "t": created_at.isoformat(), "i": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode(token: str, *, scope: str) -> tuple[datetime, str] | None:
    """None for the first page; PAGE_TOKEN_INVALID for a token that is not this list's."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["s"] != _digest(scope):
            raise ValueError("token of another list")
        created_at = datetime.fromisoformat(payload["t"])
        if created_at.tzinfo is None:
            raise ValueError("naive time")
        return created_at, str(uuid.UUID(payload["i"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise errors.page_token_invalid() from None


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]

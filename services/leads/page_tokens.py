"""Opaque keyset page tokens: the last row's sort key and id, tied to the query they came from."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from services.leads import errors


def encode(*, scope: str, key: int | datetime, row_id: str) -> str:
    value: Any = key.isoformat() if isinstance(key, datetime) else key
    payload = {"s": _digest(scope), "k": value, "i": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode(token: str, *, scope: str, time_key: bool) -> tuple[int | datetime, str] | None:
    """None for the first page; PAGE_TOKEN_INVALID for a token that is not this query's."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["s"] != _digest(scope):
            raise ValueError("token of another query")
        key: int | datetime
        if time_key:
            key = datetime.fromisoformat(payload["k"])
            if key.tzinfo is None:
                raise ValueError("naive time")
        else:
            if not isinstance(payload["k"], int) or isinstance(payload["k"], bool):
                raise ValueError("not a score")
            key = payload["k"]
        return key, str(uuid.UUID(payload["i"]))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise errors.page_token_invalid() from None


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]

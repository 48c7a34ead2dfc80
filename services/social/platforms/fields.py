"""Reading platform JSON defensively: typed field access that never trusts the payload.

Required fields raise InvalidPayloadError naming the field; optional ones fall back to empty
values. Text is cleaned of what Postgres cannot store (NUL, lone surrogates).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.social.platforms.types import InvalidPayloadError


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; InvalidPayloadError for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayloadError("body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayloadError("body is not a JSON object")
    return data


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidPayloadError(f"{where} must be an object")
    return value


def optional_obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def integer(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidPayloadError(f"{where}.{key} must be an integer")
    return value


def optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value


def id_string(data: Mapping[str, Any], key: str, where: str) -> str:
    """An id sent as a number or a decimal string (X sends ids as strings), as a string."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return value
    raise InvalidPayloadError(f"{where}.{key} must be an id")


def text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        return ""
    return clean(value)


def clean(value: str) -> str:
    """Postgres text and jsonb refuse NUL, and lone surrogates cannot be encoded as UTF-8."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def positive_size(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def unix_time(value: Any, *, milliseconds: bool = False) -> datetime:
    """A Unix time in seconds (or ms) as sent by the platform; now when absent or absurd."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        seconds = value / 1000 if milliseconds else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)


def iso_time(value: Any) -> datetime:
    """An RFC 3339 time (`2022-10-19T20:58:00.000Z`); now when absent or malformed."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def https_url(value: Any) -> str:
    """An https URL the platform gave, or empty (relative or odd values are not URLs to show)."""
    if isinstance(value, str) and value.startswith("https://"):
        return clean(value)
    return ""

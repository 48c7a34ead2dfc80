"""What every workspace adapter shares: the guarded HTTP client, limits, and the mapping of an
HTTP answer to a connection check or a tool failure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from inbetwin.agent.v1 import tool_pb2

from services.agent.tools.http_call import HttpAnswer, exchange
from services.agent.tools.outcome import ToolFailure

MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Check:
    status: int
    message: str = ""


READY = Check(tool_pb2.CONNECTION_STATUS_READY)


@dataclass(frozen=True, slots=True)
class Slot:
    title: str
    start: datetime
    end: datetime
    description: str = ""
    attendee_email: str = ""


class Http:
    """The HTTP side of the adapters."""

    def __init__(self, client: httpx.AsyncClient, *, timeout: float) -> None:
        self.client = client
        self.timeout = timeout

    async def call(self, method: str, url: str, **options: Any) -> HttpAnswer:
        return await exchange(
            self.client, method, url, timeout=self.timeout, max_bytes=MAX_BYTES, **options
        )


def check_of(answer: HttpAnswer, ok: tuple[int, ...] = (200,)) -> Check:
    if answer.status in ok:
        return READY
    if answer.status in (401, 403, 404):
        return Check(
            tool_pb2.CONNECTION_STATUS_AUTH_FAILED,
            f"the provider refused the credentials or the target (HTTP {answer.status})",
        )
    return Check(
        tool_pb2.CONNECTION_STATUS_UNREACHABLE, f"the provider answered HTTP {answer.status}"
    )


def unreachable(failure: ToolFailure) -> Check:
    return Check(tool_pb2.CONNECTION_STATUS_UNREACHABLE, failure.message)


def json_of(answer: HttpAnswer) -> dict[str, Any]:
    try:
        value = json.loads(answer.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ToolFailure(
            "TOOL_UPSTREAM_ERROR", "the provider answered something not JSON"
        ) from None
    if not isinstance(value, dict):
        raise ToolFailure("TOOL_UPSTREAM_ERROR", "the provider answered an unexpected shape")
    return value


def require(answer: HttpAnswer, ok: tuple[int, ...], what: str) -> None:
    if answer.status in ok:
        return
    if answer.status in (401, 403):
        raise ToolFailure("CONNECTION_REJECTED", f"the provider refused the credentials ({what})")
    raise ToolFailure("TOOL_UPSTREAM_ERROR", f"{what} failed: HTTP {answer.status}")

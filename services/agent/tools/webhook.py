"""Calls an owner's HTTP webhook tool: a JSON request signed with HMAC-SHA256 over
`<timestamp>.<body>`, sent through the guarded client (SSRF rules on every hop), the answer
size-capped and the whole exchange bounded by the tool's timeout."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from inbetwin.agent.v1 import tool_pb2

from services.agent.tools.builtin_runner import Call
from services.agent.tools.catalog import ToolCatalog
from services.agent.tools.http_call import exchange
from services.agent.tools.outcome import ToolFailure, ToolResult

METHODS = {
    tool_pb2.HTTP_METHOD_UNSPECIFIED: "POST",
    tool_pb2.HTTP_METHOD_GET: "GET",
    tool_pb2.HTTP_METHOD_POST: "POST",
    tool_pb2.HTTP_METHOD_PUT: "PUT",
    tool_pb2.HTTP_METHOD_PATCH: "PATCH",
    tool_pb2.HTTP_METHOD_DELETE: "DELETE",
}
SIGNATURE_HEADER = "X-Inbetwin-Signature"
TIMESTAMP_HEADER = "X-Inbetwin-Timestamp"
CALL_ID_HEADER = "X-Inbetwin-Call-Id"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def _query(arguments: dict[str, Any]) -> dict[str, str]:
    return {
        key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in arguments.items()
    }


def _result(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"text": body.decode("utf-8", errors="replace")}
    return value if isinstance(value, dict) else {"result": value}


class WebhookRunner:
    def __init__(
        self,
        client: httpx.AsyncClient,
        catalog: ToolCatalog,
        *,
        default_timeout_ms: int,
        max_response_bytes: int,
        max_redirects: int,
    ) -> None:
        self._client = client
        self._catalog = catalog
        self._default_timeout_ms = default_timeout_ms
        self._max_bytes = max_response_bytes
        self._max_redirects = max_redirects

    async def __call__(
        self, tool: tool_pb2.Tool, row: Any, call: Call, dry_run: bool
    ) -> ToolResult:
        config = tool.http_webhook
        stored = self._catalog.secrets_of(row)
        method = METHODS[config.method]
        with_body = method in ("POST", "PUT", "PATCH")
        body = json.dumps(call.arguments, separators=(",", ":")).encode() if with_body else b""
        secret = str(stored["signing_secret"])
        headers = dict(config.headers)
        headers.update(stored.get("headers", {}))
        headers[CALL_ID_HEADER] = call.call_id

        def sign(sent: bytes) -> dict[str, str]:
            timestamp = str(int(time.time()))
            return {
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(secret, timestamp, sent),
            }

        if with_body:
            headers["Content-Type"] = "application/json"
        seconds = (config.timeout_ms or self._default_timeout_ms) / 1000
        try:
            async with asyncio.timeout(seconds):
                answer = await exchange(
                    self._client,
                    method,
                    config.url,
                    timeout=seconds,
                    max_bytes=self._max_bytes,
                    max_redirects=self._max_redirects,
                    headers=headers,
                    content=body if with_body else None,
                    params=None if with_body else _query(call.arguments),
                    sign=sign,
                )
        except TimeoutError:
            raise ToolFailure(
                "TOOL_TIMEOUT", f"the tool did not answer within {seconds:g}s"
            ) from None
        if not 200 <= answer.status < 300:
            raise ToolFailure("TOOL_UPSTREAM_ERROR", f"the tool answered HTTP {answer.status}")
        return ToolResult(_result(answer.body))

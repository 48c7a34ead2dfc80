"""Talks to an owner's MCP server over the streamable HTTP transport with the official `mcp`
SDK: one short session per discovery or call, every connection through the destination policy,
the whole exchange bounded by a timeout. Failures come back as `McpUnavailableError` with the
server status they mean."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore2
import httpx2
from inbetwin.agent.v1 import tool_pb2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import PaginatedRequestParams, TextContent

from services.agent.destinations import DestinationPolicy, ForbiddenDestinationError

MAX_TOOLS = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RemoteTool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    is_error: bool
    value: dict[str, Any]


class McpUnavailableError(Exception):
    """`status` is the McpServerStatus the failure means; `forbidden` marks an address the
    destination policy refused."""

    def __init__(self, status: int, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.forbidden = forbidden


class _GuardedBackend(httpcore2.AsyncNetworkBackend):
    """httpcore2's network backend (the SDK's HTTP stack) behind the destination policy; it
    remembers a refusal, since the SDK reports transport failures without their cause."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self._policy = policy
        self._inner = httpcore2.AnyIOBackend()
        self.refused = False
        self.auth_failed = False

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            addresses = await self._policy.addresses(host, port)
        except ForbiddenDestinationError:
            self.refused = True
            raise httpcore2.ConnectError("forbidden destination") from None
        except Exception as error:
            raise httpcore2.ConnectError(f"cannot resolve {host}") from error
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore2.ConnectError as failed:
                failure = failed
        raise failure or httpcore2.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Any = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.refused = True
        raise httpcore2.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _client(
    backend: _GuardedBackend, headers: dict[str, str], seconds: float
) -> httpx2.AsyncClient:
    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=httpx2.create_ssl_context(trust_env=False),
        max_connections=10,
        network_backend=backend,
    )

    async def note_auth_failure(response: httpx2.Response) -> None:
        if response.status_code in (401, 403):
            backend.auth_failed = True

    return httpx2.AsyncClient(
        transport=transport,
        trust_env=False,
        headers=headers,
        timeout=httpx2.Timeout(seconds),
        event_hooks={"response": [note_auth_failure]},
    )


class McpClient:
    def __init__(self, policy: DestinationPolicy) -> None:
        self._policy = policy
        # The SDK's HTTP client logs every request at INFO; the access log has our own lines.
        logging.getLogger("httpx2").setLevel(logging.WARNING)

    async def list_tools(
        self, url: str, headers: dict[str, str], *, seconds: float
    ) -> list[RemoteTool]:
        async def discover(session: ClientSession) -> list[RemoteTool]:
            found: list[RemoteTool] = []
            cursor: str | None = None
            while len(found) < MAX_TOOLS:
                params = PaginatedRequestParams(cursor=cursor) if cursor else None
                listed = await session.list_tools(params=params)
                found += [
                    RemoteTool(t.name, t.description or "", dict(t.input_schema or {}))
                    for t in listed.tools
                ]
                cursor = listed.next_cursor
                if not cursor:
                    break
            return found[:MAX_TOOLS]

        return await self._session(url, headers, seconds, discover)

    async def call_tool(
        self,
        url: str,
        headers: dict[str, str],
        name: str,
        arguments: dict[str, Any],
        *,
        seconds: float,
    ) -> ToolAnswer:
        async def call(session: ClientSession) -> ToolAnswer:
            result = await session.call_tool(name, arguments)
            texts = [block.text for block in result.content if isinstance(block, TextContent)]
            value: dict[str, Any] = {}
            if result.structured_content is not None:
                value = dict(result.structured_content)
            elif texts:
                value = {"text": "\n".join(texts)}
            return ToolAnswer(bool(result.is_error), value)

        return await self._session(url, headers, seconds, call)

    async def _session(
        self,
        url: str,
        headers: dict[str, str],
        seconds: float,
        work: Callable[[ClientSession], Awaitable[T]],
    ) -> T:
        try:
            self._policy.check_literal(url)
        except ForbiddenDestinationError:
            raise _forbidden() from None
        backend = _GuardedBackend(self._policy)
        try:
            async with asyncio.timeout(seconds):
                async with (
                    _client(backend, headers, seconds) as http,
                    streamable_http_client(url, http_client=http, terminate_on_close=False) as (
                        read,
                        write,
                    ),
                    ClientSession(read, write, read_timeout_seconds=seconds) as session,
                ):
                    await session.initialize()
                    return await work(session)
        except TimeoutError:
            raise McpUnavailableError(
                tool_pb2.MCP_SERVER_STATUS_UNREACHABLE,
                f"the server did not answer within {seconds:g}s",
            ) from None
        except Exception as error:  # the SDK wraps transport failures in several ways
            if backend.refused:
                raise _forbidden() from None
            if backend.auth_failed:
                raise McpUnavailableError(
                    tool_pb2.MCP_SERVER_STATUS_AUTH_FAILED, "the server refused the auth header"
                ) from None
            if _is_transport(error):
                raise McpUnavailableError(
                    tool_pb2.MCP_SERVER_STATUS_UNREACHABLE, "the server could not be reached"
                ) from None
            raise McpUnavailableError(
                tool_pb2.MCP_SERVER_STATUS_PROTOCOL_ERROR,
                f"the server did not answer as an MCP server ({_describe(error)})",
            ) from None


def _forbidden() -> McpUnavailableError:
    return McpUnavailableError(
        tool_pb2.MCP_SERVER_STATUS_UNREACHABLE,
        "the server's address points to a forbidden network",
        forbidden=True,
    )


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    chained = error.__cause__ or error.__context__
    return [error, *(_leaves(chained) if chained is not None else [])]


def _is_transport(error: BaseException) -> bool:
    return any(
        isinstance(leaf, (httpx2.TransportError, httpcore2.ConnectError, OSError))
        for leaf in _leaves(error)
    )


def _describe(error: BaseException) -> str:
    leaf = _leaves(error)[0]
    return f"{type(leaf).__name__}: {str(leaf)[:200]}"

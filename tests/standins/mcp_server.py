"""A real MCP server built with the official SDK (MCPServer, streamable HTTP), served by uvicorn
on a loopback port of the test's event loop. It offers `lookup_order` (structured result),
`shout` (text), `explode` (a tool error) and `dawdle` (answers after 3 s), and, when `token` is
set, refuses requests without `Authorization: Bearer <token>` (401)."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any, Self

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send


def build(extra_tool: bool = False) -> MCPServer:
    server = MCPServer("shop")

    @server.tool()
    def lookup_order(order_id: str) -> dict[str, Any]:
        """Find an order by its id."""
        return {"order_id": order_id, "status": "shipped"}

    @server.tool()
    def shout(text: str) -> str:
        """Repeat the text in capitals."""
        return text.upper()

    @server.tool()
    def explode() -> str:
        """Always fails."""
        raise ValueError("the warehouse is on fire")

    @server.tool()
    async def dawdle() -> str:
        """Answers after three seconds."""
        await asyncio.sleep(3)
        return "late"

    if extra_tool:

        @server.tool()
        def refund(order_id: str, amount: float) -> str:
            """Refund an order."""
            return f"refunded {amount} on {order_id}"

    return server


class _BearerOnly:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != (
            self._expected
        ):
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await self._app(scope, receive, send)


class McpStandIn:
    def __init__(self, *, token: str = "", extra_tool: bool = False) -> None:
        self.server = build(extra_tool)
        self._token = token
        self._uvicorn: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def __aenter__(self) -> Self:
        # Also answers to `mcp.test` (a name the tests' DNS server resolves to loopback).
        security = TransportSecuritySettings(
            allowed_hosts=["127.0.0.1:*", "mcp.test:*"], allowed_origins=[]
        )
        app: ASGIApp = self.server.streamable_http_app(transport_security=security)
        if self._token:
            app = _BearerOnly(app, self._token)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = int(listener.getsockname()[1])
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        )
        self._task = asyncio.create_task(self._uvicorn.serve(sockets=[listener]))
        while not self._uvicorn.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._uvicorn is not None
        assert self._task is not None
        self._uvicorn.should_exit = True
        await self._task

"""The owner's MCP servers: stored with their auth header sealed apart, discovered with the MCP
`tools/list` (their tools become Tool rows of kind MCP, named `<server>_<tool>`, keeping their
ids across refreshes), and called for ExecuteTool."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import field_mask_pb2, json_format, struct_pb2
from inbetwin.agent.v1 import agent_pb2, tool_pb2
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.agent import errors, repository
from services.agent.agents import AgentBook
from services.agent.destinations import DestinationPolicy, ForbiddenDestinationError
from services.agent.secrets_box import SecretBox
from services.agent.tables import mcp_servers, tools
from services.agent.tools import arguments
from services.agent.tools.builtin_runner import Call
from services.agent.tools.catalog import FORBIDDEN_HEADERS
from services.agent.tools.catalog import to_proto as tool_proto
from services.agent.tools.mcp_client import McpClient, McpUnavailableError, RemoteTool
from services.agent.tools.outcome import ToolFailure, ToolResult
from services.kit.errors import ServiceError
from services.kit.outbox import OutboxRelay

CREATE_SCOPE = "CreateMcpServer"
UPDATABLE = frozenset({"name", "url", "auth_header_name", "auth_header_value"})
DEFAULT_AUTH_HEADER = "Authorization"
_NOT_NAME = re.compile(r"[^a-z0-9_]")


def tool_name(server_name: str, remote_name: str) -> str:
    return f"{server_name}_{_NOT_NAME.sub('_', remote_name.lower())}"[:64]


@dataclass(frozen=True, slots=True)
class Discovery:
    server: tool_pb2.McpServer
    added: list[str]
    removed: list[str]


class McpServers:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        relay: OutboxRelay,
        agents: AgentBook,
        box: SecretBox,
        policy: DestinationPolicy,
        client: McpClient,
        max_servers: int,
        discovery_seconds: float,
        call_seconds: float,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._agents = agents
        self._box = box
        self._policy = policy
        self._client = client
        self._max_servers = max_servers
        self._discovery_seconds = discovery_seconds
        self._call_seconds = call_seconds

    async def create(
        self, owner_id: str, server: tool_pb2.McpServer, request_id: str
    ) -> tool_pb2.McpServer:
        if request_id:
            async with self._engine.connect() as conn:
                earlier = await repository.remembered(
                    conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
                )
            if earlier is not None:
                return tool_pb2.McpServer.FromString(earlier)
        self._check_url(server.url)
        _check_header(server.auth_header_name)
        server_id = str(uuid.uuid4())
        sealed = self._seal(server.auth_header_value, server_id)
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner_id, scope=CREATE_SCOPE)
            count = await conn.execute(
                sa.select(sa.func.count())
                .select_from(mcp_servers)
                .where(mcp_servers.c.owner_id == owner_id)
            )
            if int(count.scalar_one()) >= self._max_servers:
                raise errors.limit_reached(
                    "MCP_SERVER_LIMIT_REACHED", "MCP servers", self._max_servers
                )
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        sa.insert(mcp_servers).values(
                            id=server_id,
                            owner_id=owner_id,
                            name=server.name,
                            spec=_public_spec(server, bool(sealed)).SerializeToString(),
                            sealed_auth=sealed,
                        )
                    )
            except IntegrityError:
                raise _name_taken() from None
        discovered = await self.refresh(owner_id, server_id)
        if request_id:
            async with self._engine.begin() as conn:
                await repository.remember(
                    conn,
                    owner_id=owner_id,
                    scope=CREATE_SCOPE,
                    request_id=request_id,
                    response=discovered.server.SerializeToString(),
                )
        return discovered.server

    async def get(self, owner_id: str, server_id: str) -> tool_pb2.McpServer:
        async with self._engine.connect() as conn:
            row = await self._row(conn, owner_id, server_id)
            if row is None:
                raise errors.mcp_server_not_found()
            return await self._with_tools(conn, row)

    async def page(
        self, owner_id: str, *, limit: int, after: tuple[str, str] | None
    ) -> list[tool_pb2.McpServer]:
        query = sa.select(mcp_servers).where(mcp_servers.c.owner_id == owner_id)
        if after is not None:
            query = query.where(mcp_servers.c.name > after[0])
        query = query.order_by(mcp_servers.c.name).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            return [await self._with_tools(conn, row) for row in rows]

    async def update(
        self, owner_id: str, patch: tool_pb2.McpServer, mask: field_mask_pb2.FieldMask
    ) -> tool_pb2.McpServer:
        paths = list(mask.paths)
        wrong = [path for path in paths if path not in UPDATABLE]
        if wrong or not paths:
            raise errors.field_not_updatable(wrong or ["(empty update_mask)"])
        if "url" in paths:
            self._check_url(patch.url)
        if "auth_header_name" in paths:
            _check_header(patch.auth_header_name)
        async with self._engine.begin() as conn:
            row = await self._row(conn, owner_id, patch.id, lock=True)
            if row is None:
                raise errors.mcp_server_not_found()
            current = tool_pb2.McpServer.FromString(row.spec)
            sealed = row.sealed_auth
            for path in paths:
                if path == "auth_header_value":
                    sealed = self._seal(patch.auth_header_value, row.id)
                else:
                    setattr(current, path, getattr(patch, path))
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        sa.update(mcp_servers)
                        .where(mcp_servers.c.id == row.id)
                        .values(
                            name=current.name,
                            spec=_public_spec(current, bool(sealed)).SerializeToString(),
                            sealed_auth=sealed,
                            updated_at=sa.func.now(),
                        )
                    )
                    if "name" in paths and current.name != row.name:
                        await self._rename_tools(conn, row.id, current.name)
            except IntegrityError:
                raise _name_taken() from None
        if {"url", "auth_header_name", "auth_header_value"} & set(paths):
            return (await self.refresh(owner_id, row.id)).server
        return await self.get(owner_id, row.id)

    async def delete(self, owner_id: str, server_id: str) -> None:
        async with self._engine.begin() as conn:
            row = await self._row(conn, owner_id, server_id, lock=True)
            if row is None:
                raise errors.mcp_server_not_found()
            removed = await conn.execute(
                sa.delete(tools).where(tools.c.mcp_server_id == server_id).returning(tools.c.id)
            )
            removed_ids = {r.id for r in removed}
            await conn.execute(sa.delete(mcp_servers).where(mcp_servers.c.id == server_id))
            changed = await self._agents.rewrite_tools(conn, owner_id, removed_ids)
        await self._agents.written(owner_id, changed)
        if changed:
            self._relay.notify()

    async def refresh(self, owner_id: str, server_id: str) -> Discovery:
        """Discover the server's tools again; a failure keeps the old tools and sets status."""
        async with self._engine.connect() as conn:
            row = await self._row(conn, owner_id, server_id)
        if row is None:
            raise errors.mcp_server_not_found()
        url = tool_pb2.McpServer.FromString(row.spec).url
        found: list[RemoteTool] | None = None
        status: int = tool_pb2.MCP_SERVER_STATUS_READY
        message = ""
        try:
            found = await self._client.list_tools(
                url, self._headers(row), seconds=self._discovery_seconds
            )
        except McpUnavailableError as failed:
            status, message = failed.status, failed.message
        added: list[str] = []
        removed: list[str] = []
        changed: list[agent_pb2.Agent] = []
        async with self._engine.begin() as conn:
            locked = await self._row(conn, owner_id, server_id, lock=True)
            if locked is None:
                raise errors.mcp_server_not_found()
            current = tool_pb2.McpServer.FromString(locked.spec)
            current.status = status  # type: ignore[assignment]
            current.status_message = message
            current.refresh_time.FromDatetime(datetime.now(UTC))
            if found is not None:
                added, removed, removed_ids, skipped = await self._sync_tools(
                    conn, owner_id, locked, found
                )
                if skipped:
                    current.status_message = (
                        "tools left out because another tool has their name: " + ", ".join(skipped)
                    )
                changed = await self._agents.rewrite_tools(conn, owner_id, removed_ids)
            await conn.execute(
                sa.update(mcp_servers)
                .where(mcp_servers.c.id == server_id)
                .values(spec=current.SerializeToString(), updated_at=sa.func.now())
            )
        await self._agents.written(owner_id, changed)
        if changed:
            self._relay.notify()
        return Discovery(await self.get(owner_id, server_id), added, removed)

    async def _sync_tools(
        self, conn: AsyncConnection, owner_id: str, server: Row[Any], found: list[RemoteTool]
    ) -> tuple[list[str], list[str], set[str], list[str]]:
        existing = {
            tool_pb2.Tool.FromString(r.spec).mcp.remote_name: r
            for r in await conn.execute(sa.select(tools).where(tools.c.mcp_server_id == server.id))
        }
        added: list[str] = []
        skipped: list[str] = []
        offered = {remote.name: remote for remote in found}
        for remote in offered.values():
            name = tool_name(server.name, remote.name)
            spec = _tool_spec(name, server, remote)
            row = existing.get(remote.name)
            try:
                async with conn.begin_nested():
                    if row is None:
                        await conn.execute(
                            sa.insert(tools).values(
                                id=str(uuid.uuid4()),
                                owner_id=owner_id,
                                name=name,
                                kind=tool_pb2.TOOL_KIND_MCP,
                                mcp_server_id=server.id,
                                spec=spec.SerializeToString(),
                            )
                        )
                        added.append(name)
                    else:
                        await conn.execute(
                            sa.update(tools)
                            .where(tools.c.id == row.id)
                            .values(
                                name=name, spec=spec.SerializeToString(), updated_at=sa.func.now()
                            )
                        )
            except IntegrityError:
                skipped.append(remote.name)
        vanished = [row for remote_name, row in existing.items() if remote_name not in offered]
        if vanished:
            await conn.execute(sa.delete(tools).where(tools.c.id.in_([r.id for r in vanished])))
        return added, sorted(r.name for r in vanished), {r.id for r in vanished}, skipped

    async def _rename_tools(self, conn: AsyncConnection, server_id: str, server_name: str) -> None:
        for row in await conn.execute(sa.select(tools).where(tools.c.mcp_server_id == server_id)):
            spec = tool_pb2.Tool.FromString(row.spec)
            spec.name = tool_name(server_name, spec.mcp.remote_name)
            await conn.execute(
                sa.update(tools)
                .where(tools.c.id == row.id)
                .values(name=spec.name, spec=spec.SerializeToString(), updated_at=sa.func.now())
            )

    async def run(self, tool: tool_pb2.Tool, row: Any, call: Call, dry_run: bool) -> ToolResult:
        async with self._engine.connect() as conn:
            server = await self._row(conn, call.owner_id, row.mcp_server_id)
        if server is None:
            raise ToolFailure("TOOL_UNKNOWN", "the tool's MCP server was removed", rejected=True)
        url = tool_pb2.McpServer.FromString(server.spec).url
        try:
            answer = await self._client.call_tool(
                url,
                self._headers(server),
                tool.mcp.remote_name,
                call.arguments,
                seconds=self._call_seconds,
            )
        except McpUnavailableError as failed:
            if failed.forbidden:
                raise ToolFailure(
                    "TOOL_DESTINATION_FORBIDDEN", failed.message, rejected=True
                ) from None
            raise ToolFailure(
                "MCP_SERVER_UNAVAILABLE", f"the tool's MCP server failed: {failed.message}"
            ) from None
        if answer.is_error:
            detail = str(answer.value.get("text", ""))[:500]
            raise ToolFailure("TOOL_UPSTREAM_ERROR", f"the MCP tool reported an error: {detail}")
        return ToolResult(answer.value)

    def _headers(self, row: Row[Any]) -> dict[str, str]:
        if not row.sealed_auth:
            return {}
        spec = tool_pb2.McpServer.FromString(row.spec)
        value = self._box.open(row.sealed_auth, bound_to=row.id).get("value", "")
        return {spec.auth_header_name or DEFAULT_AUTH_HEADER: str(value)}

    def _seal(self, value: str, server_id: str) -> bytes | None:
        return self._box.seal({"value": value}, bound_to=server_id) if value else None

    def _check_url(self, url: str) -> None:
        try:
            self._policy.check_literal(url)
        except ForbiddenDestinationError:
            raise errors.invalid(
                "TOOL_DESTINATION_FORBIDDEN", "the server URL points to a forbidden network"
            ) from None

    async def _with_tools(self, conn: AsyncConnection, row: Row[Any]) -> tool_pb2.McpServer:
        server = tool_pb2.McpServer.FromString(row.spec)
        server.id = row.id
        server.create_time.FromDatetime(row.created_at)
        server.update_time.FromDatetime(row.updated_at)
        listed = await conn.execute(
            sa.select(tools).where(tools.c.mcp_server_id == row.id).order_by(tools.c.name)
        )
        server.tools.extend(tool_proto(tool_row) for tool_row in listed)
        return server

    @staticmethod
    async def _row(
        conn: AsyncConnection, owner_id: str, server_id: str, *, lock: bool = False
    ) -> Row[Any] | None:
        query = sa.select(mcp_servers).where(
            mcp_servers.c.owner_id == owner_id, mcp_servers.c.id == server_id
        )
        if lock:
            query = query.with_for_update()
        row: Row[Any] | None = (await conn.execute(query)).first()
        return row


def _check_header(name: str) -> None:
    lowered = name.lower()
    if lowered in FORBIDDEN_HEADERS or lowered.startswith("x-inbetwin-"):
        raise errors.invalid("HEADER_NOT_ALLOWED", f"{name} cannot carry the auth value")


def _public_spec(server: tool_pb2.McpServer, has_auth: bool) -> tool_pb2.McpServer:
    spec = tool_pb2.McpServer()
    spec.CopyFrom(server)
    for field in ("id", "auth_header_value", "tools", "create_time", "update_time"):
        spec.ClearField(field)
    spec.has_auth_header = has_auth
    return spec


def _tool_spec(name: str, server: Row[Any], remote: RemoteTool) -> tool_pb2.Tool:
    description = remote.description.strip() or f"Tool {remote.name} of MCP server {server.name}"
    schema = remote.input_schema or {"type": "object"}
    if arguments.schema_problem(schema) is not None:
        schema = {"type": "object"}
    parameters = struct_pb2.Struct()
    json_format.ParseDict(schema, parameters)
    return tool_pb2.Tool(
        name=name,
        description=description[:1024],
        parameters=parameters,
        mcp=tool_pb2.McpToolSource(mcp_server_id=server.id, remote_name=remote.name),
    )


def _name_taken() -> ServiceError:
    return errors.already_exists(
        "MCP_SERVER_NAME_TAKEN", "the owner already has an MCP server of that name"
    )
